"""Report renderers (timeline, exhibit list, advice sheets) and their shared helpers."""
