#!/usr/bin/env bash
# make demo: the whole pipeline on the bundled synthetic submission.
# Usage: scripts/demo.sh [CASE_DIR]   (default: demo-case)
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO="${1:-demo-case}"
export PATH="$PWD/.venv/bin:$PATH"
# Demo keys live beside the demo, never in the investigator's own key store.
export XDG_CONFIG_HOME="$PWD/.demo-config"
step() { printf '\n== %s\n' "$*" >&2; }

step "synthetic submission"
python fixtures/make_fixtures.py fixtures/out

if [ -e "$DEMO" ]; then chmod -R u+w "$DEMO"; rm -rf "$DEMO"; fi

step "case folder"
cyberstalk case init "$DEMO" --ref NWP/2026/0142 --officer "DC Rhian Evans" --initials RE
cyberstalk case person add "$DEMO" --name "Carys Hughes" --role victim \
  --id phone:+447700900123 --id email:carys.hughes@example.com \
  --id display_name:Carys@whatsapp --id username:carys_h_example@instagram \
  --id "display_name:Carys H@telegram"
cyberstalk case person add "$DEMO" --name "Dylan Price" --role suspect \
  --id phone:+447700900456 --id email:dylan.price@example.net \
  --id display_name:Dylan@whatsapp --id username:dylan.p_example@instagram \
  --id "display_name:Dylan P@telegram"
# his second number and new Instagram account came to light later
cyberstalk case person add-id "$DEMO" --name "Dylan Price" \
  --id phone:+447700900789 --id username:d.price.new_example@instagram
cyberstalk case order add "$DEMO" --kind "Stalking Protection Order" --subject "Dylan Price" \
  --made 2026-02-13 --served 2026-02-14T11:00 \
  --condition "Must not contact Carys Hughes by any means, directly or indirectly"

step "ingest (copy, hash, sign; parse exports; read screenshots)"
cyberstalk ingest "$DEMO" fixtures/out/submission \
  --source "Victim's phone exports and screenshots on USB stick, bag NWP-SB-0142" \
  --received-from "Carys Hughes"

step "verify"
cyberstalk verify "$DEMO"

step "trusted timestamp from a local demo TSA"
TSA_DIR="$(mktemp -d)"
python scripts/demo_tsa.py --port 0 --write-url "$TSA_DIR/url" --root-out "$TSA_DIR/root.pem" \
  --timeout 120 &
TSA_PID=$!
trap 'kill $TSA_PID 2>/dev/null || true; rm -rf "$TSA_DIR"' EXIT
for _ in $(seq 100); do [ -s "$TSA_DIR/url" ] && break; sleep 0.1; done
cyberstalk timestamp "$DEMO" --tsa "$(cat "$TSA_DIR/url")" --tsa-root "$TSA_DIR/root.pem"

step "exports"
cyberstalk export "$DEMO" --bagit "$DEMO/reports/bag"
cyberstalk export "$DEMO" --case-uco "$DEMO/reports/custody.jsonld"
cyberstalk export "$DEMO" --exhibits "$DEMO/reports/exhibits.csv"
cyberstalk export "$DEMO" --exhibits "$DEMO/reports/exhibits.html"

step "capture a public post by URL (a synthetic page on a local web server)"
WEB_DIR="$(mktemp -d)"
python scripts/demo_web.py --port 0 --write-url "$WEB_DIR/url" --timeout 120 &
WEB_PID=$!
trap 'kill $TSA_PID $WEB_PID 2>/dev/null || true; rm -rf "$TSA_DIR" "$WEB_DIR"' EXIT
for _ in $(seq 100); do [ -s "$WEB_DIR/url" ] && break; sleep 0.1; done
# --allow-private: the demo server is on 127.0.0.1, which a real capture refuses
cyberstalk capture "$DEMO" "$(cat "$WEB_DIR/url")" --allow-private \
  --source "Link sent by Carys Hughes by text message" --reason "post names where she travels" \
  --tsa "$(cat "$TSA_DIR/url")" --tsa-root "$TSA_DIR/root.pem"

step "risk identification: the officer's answers beside the evidence (synthetic)"
cyberstalk risk "$DEMO" --answer 1=yes --note "1=she has changed her route to work" \
  --answer 6=no --answer 7=not_known --grade high \
  --reason "daily contact, new accounts after a block, contact after the SPO was served" >/dev/null

step "course-of-conduct timeline"
cyberstalk timeline "$DEMO" --format html -o "$DEMO/reports/timeline.html"
cyberstalk timeline "$DEMO" --format pdf -o "$DEMO/reports/timeline.pdf"
cyberstalk timeline "$DEMO" --format json -o "$DEMO/reports/timeline.json"

step "safeguarding advice sheets"
for lang in en cy both; do
  cyberstalk advice "$DEMO" --lang "$lang" --format html -o "$DEMO/reports/advice-$lang.html"
  cyberstalk advice "$DEMO" --lang "$lang" --format pdf -o "$DEMO/reports/advice-$lang.pdf"
done
cyberstalk advice "$DEMO" --lang both --officer-copy -o "$DEMO/reports/advice-officer-copy.html"

step "multi-agency stalking panel pack (everyone masked)"
cyberstalk panel "$DEMO" --format html -o "$DEMO/reports/panel-pack.html"
cyberstalk panel "$DEMO" --format pdf -o "$DEMO/reports/panel-pack.pdf"

step "force-level stalking profile (90 synthetic cases and the demo case)"
rm -rf fixtures/out/profile-cases
# first contacts from August 2025 to January 2026, as the demo case's (its evidence was
# all received today, so the months are those of first contact, not of report)
python fixtures/many_cases.py 90 fixtures/out/profile-cases --first-day 2025-08-01 --days 180
# exit 1 means a case was excluded (named above): the profile of the rest is still written
rc=0
cyberstalk profile fixtures/out/profile-cases/case-* "$DEMO" -o "$DEMO/reports/profile" \
  --by first-contact || rc=$?
[ "$rc" -le 1 ] || exit "$rc"

step "screening other crimes for stalking behaviours (synthetic crime records)"
python fixtures/crime_records.py fixtures/out/crime-records >/dev/null
# exit 1 means records were flagged for review, which is what this set is for
rc=0
cyberstalk screen fixtures/out/crime-records/crime_records.csv --map id=CrimeRef \
  --map text=Summary --map date=Recorded --map offence=Offence \
  -o "$DEMO/reports/screening.html" || rc=$?
[ "$rc" -le 1 ] || exit "$rc"

step "verify again"
cyberstalk verify "$DEMO"

printf '\nDemo case: %s\nReports:\n' "$DEMO"
# every report file (the profile's in reports/profile/), and the bag as one folder
find "$DEMO/reports" -path "$DEMO/reports/bag" -prune -print -o -type f -print | sort | sed 's/^/  /'
