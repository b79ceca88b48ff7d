#!/usr/bin/env bash
# Run the side-by-side comparison with the Java/WSS4J peer (../shared/tools/peer-wss4j, issue 18)
# against this checkout:
#
#   bash bench/peer_wss4j.sh          # as root; environment as for the tool's run.sh (ROUNDS, DURATION, …)
#
# That tool was written against the broker's names of before issue 19's rename: its gate.py and
# py_floor.py import, e.g., broker.edukoppeling.wss.signer.Signer and call
# verifieer(…). This copies the tool to a scratch folder, maps those names with the rename's own
# mapping (scripts/maintenance/rename_to_english.py: Python names and module paths only, never a
# string, so no request, check or figure of the tool changes, but for the renamed bench module its
# run.sh runs), fixes the one step of its gate that
# assumed the signer put wsse:Security first, follows the renamed trust-check keyword and module
# names in its floor and profile report, and runs the copy's run.sh from here.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(cd "${PEER_SHARED:-$ROOT/../shared}" && pwd)
TOOL=$SHARED/tools/peer-wss4j
[ -f "$TOOL/run.sh" ] || { echo "no $TOOL/run.sh: the shared folder is expected beside the checkout" >&2; exit 1; }
PYTHON=$ROOT/.venv/bin/python
[ -x "$PYTHON" ] || PYTHON=python3.11
COPY=$(mktemp -d)/peer-wss4j
cp -r "$TOOL" "$COPY"
rm -rf "$COPY/results"
(
    cd "$COPY"
    git init -q && git add -A && git -c user.name=peer -c user.email=peer@localhost commit -qm "the tool as shared"
    "$PYTHON" "$ROOT/scripts/maintenance/rename_to_english.py" . > rename.log
    # The gate re-signs a request by removing "the Security header" as the Header's first child; since
    # ad7ce1c the broker's signer puts wsse:Security last (as DUO does, for gSOAP), so remove it by name.
    "$PYTHON" - <<'PY'
from pathlib import Path
gate = Path("gate.py")
old = "header.remove(header[0])"
new = 'header.remove(header.find("{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"))'
text = gate.read_text()
if text.count(old) != 1:
    raise SystemExit("peer tool's gate.py changed: its re-signing step is not where bench/peer_wss4j.sh expects it")
gate.write_text(text.replace(old, new))
# verify_envelope's keyword for the trust check was renamed with a function-scoped rule, which the
# mapping applies to the broker's own files only.
floor = Path("py_floor.py")
text = floor.read_text()
if text.count("vertrouw=lambda") != 1:
    raise SystemExit("peer tool's py_floor.py changed: its trust-check keyword is not where bench/peer_wss4j.sh expects it")
floor.write_text(text.replace("vertrouw=lambda", "trust_check=lambda"))
# The profile report sorts samples by file name: follow the renamed modules in its patterns.
report = Path("profile_report.py")
text = report.read_text()
for old, new in [
    (r"privacy/sleutels\.py", r"privacy/keys\.py"),
    (r"wss/ondertekening\.py", r"wss/signer\.py"),
    (r"wss/(verificatie|tijdstempel)\.py", r"wss/(verification|timestamp)\.py"),
    (r"edukoppeling/vertrouwen\.py", r"edukoppeling/trust_store\.py"),
    (r"contract|lezen)\.py", r"contract|reading)\.py"),
    (r"soap/diensten\.py", r"soap/services\.py"),
    (r"db/herhaling\.py|db/berichtenlog\.py", r"db/message_id_memory\.py|db/message_log\.py"),
    (r"web/metriek\.py", r"web/metrics\.py"),
    (r"web/(pijplijn|app|http|server)\.py", r"web/(pipeline|app|http|server)\.py"),
]:
    text = text.replace(old, new)
report.write_text(text)
PY
    echo "peer tool copied to $COPY; names mapped and the gate's re-signing fixed: $(git diff --stat | tail -1)"
)
cd "$ROOT"
PEER_SHARED="$SHARED" exec bash "$COPY/run.sh"
