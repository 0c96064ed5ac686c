"""Validates an OSCAL assessment-results JSON file with compliance-trestle's OSCAL models.

Usage: python oscal-validate.py FILE   (the python of test/tools/trestle.sh's virtualenv)
Prints one JSON line: what trestle read (on success), or the validation error; exit 0 or 1.
"""
import json
import pathlib
import re
import sys

import trestle
from trestle.oscal import OSCAL_VERSION, OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import AssessmentResults


def main(path: str) -> int:
    try:
        # oscal_read is trestle's own reader: the {"assessment-results": ...} wrapper, every field
        # checked by its pydantic model (types, enums, patterns, required fields, no unknown keys).
        ar = AssessmentResults.oscal_read(pathlib.Path(path))
    except Exception as err:  # noqa: BLE001 - any refusal is the answer
        print(json.dumps({"valid": False, "error": str(err)}))
        return 1
    declared = ar.metadata.oscal_version.__root__
    results = ar.results or []
    print(json.dumps({
        "valid": True,
        "trestle": trestle.__version__,
        "trestleOscalVersion": OSCAL_VERSION,
        "oscalVersion": declared,
        "oscalVersionSupported": re.match(OSCAL_VERSION_REGEX, declared) is not None,
        "results": len(results),
        "observations": sum(len(r.observations or []) for r in results),
        "findings": [
            {"target": f.target.target_id, "state": f.target.status.state.value, "title": f.title}
            for r in results for f in (r.findings or [])
        ],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
