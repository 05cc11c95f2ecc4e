"""Taking a submission into a case: walking it, reading archives safely, typing files."""
