#!/usr/bin/env bash
# Check placematch's SSDA903 export against the real DfE validator (csc-validator-be-903).
#
# The validator pins old pandas and numpy, so it lives in its own virtual environment
# (never a placematch dependency). placematch itself must already be installed in the
# environment of $PLACEMATCH_PYTHON (default: python3 on PATH; .ci/run's venv works).
#
#   .ci/check_903_export.sh            # demo folder + a synthetic Essex referral list
#
# Exit status 0 only if, for every export, no validator rule flags a field we write, the
# validator's own PL_DISTANCE / PL_LOCATION / PL_LA equal placement_location.csv, and
# `placematch validate-903` runs the same validator on the export.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
PLACEMATCH_PYTHON="${PLACEMATCH_PYTHON:-python3}"
V903="${V903_VENV:-${TMPDIR:-/tmp}/placematch-v903}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$V903/bin/python" ]; then
    echo "== DfE validator environment ($V903)"
    "$PYTHON" -m venv "$V903"
    "$V903/bin/python" -m pip install --quiet --upgrade pip
    "$V903/bin/python" -m pip install --quiet "csc-validator-be-903==0.1.17"
fi

# Non-fostering homes need their Ofsted URN (DfE rule 218): case folders carry it in the
# optional 'urn' column of vacancies.csv. examples/demo has made-up SC9xxxxx numbers and
# placematch synth writes synthetic ones; nothing is added here, so a missing URN fails.

status=0
check() {  # name folder la_ons
    local name="$1" folder="$2" la="$3"
    echo "== $name"
    "$PLACEMATCH_PYTHON" -m placematch match "$folder" --seed 0 --time-limit 20 \
        --out "$WORK/$name.json" > /dev/null
    "$PLACEMATCH_PYTHON" -m placematch export-903 "$folder" --assignment "$WORK/$name.json" \
        --out "$WORK/$name-903" --start 2025-01-15 --la "$la" 2> "$WORK/$name.warnings"
    sed 's/^/  /' "$WORK/$name.warnings"
    "$V903/bin/python" .ci/dfe_903_validate.py "$WORK/$name-903" --la "$la" --year 2025 \
        2> /dev/null || status=1
    # The user's command on the same return and the same validator: it must run (exit 0, or
    # 1 when a rule flags rows; 2 is a failure to run) and have run the validator's rules.
    local rc=0
    "$PLACEMATCH_PYTHON" -m placematch validate-903 "$WORK/$name-903" --la "$la" --year 2025 \
        --validator-env "$V903" --no-install --json > "$WORK/$name-v903.json" || rc=$?
    if [ "$rc" -gt 1 ] || ! "$PLACEMATCH_PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["rules_run"] > 0 and "Episodes" in r["tables"], r["rules_run"]
print("  placematch validate-903:", r["rules_run"], "rules run,", r["rules_flagged"], "flag", r["errors"], "rows")
' "$WORK/$name-v903.json"; then
        echo "  placematch validate-903 failed (exit $rc)"
        status=1
    fi
}

cp -r examples/demo "$WORK/demo"
check demo "$WORK/demo" E10000012
"$PLACEMATCH_PYTHON" -m placematch synth --la Essex --seed 3 --referrals 80 \
    --out "$WORK/essex" > /dev/null
check essex-referrals "$WORK/essex" E10000012

exit $status
