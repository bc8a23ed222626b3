# Differential-test oracle: runs pieces of the in-toto reference implementation (Debian in-toto
# 1.3.1, /usr/bin/python3) on a batch of cases read as JSON from stdin, and prints the results as
# JSON. Written for custody's tests; it only calls the reference's own functions.
import fnmatch
import json
import logging
import sys

logging.disable(logging.CRITICAL)

import securesystemslib.exceptions
import in_toto.rulelib
import in_toto.verifylib as verifylib
from in_toto.exceptions import RuleVerificationError
from in_toto.models.link import Link
from in_toto.models.metadata import Metablock


def run_fnmatch(case):
    name, pattern = case
    return fnmatch.fnmatchcase(name, pattern)


def run_rules(case):
    links = {}
    for name, arts in case["links"].items():
        links[name] = Metablock(signed=Link(name=name, materials=arts["materials"], products=arts["products"]))
    verifylib.RULE_TRACE.clear()
    outcome, error = "pass", None
    try:
        verifylib.verify_item_rules(case["item"], case["sourceType"], case["rules"], links)
    except RuleVerificationError:
        outcome = "fail"
    except securesystemslib.exceptions.FormatError as e:
        outcome, error = "format-error", str(e)
    except Exception as e:  # the reference crashing is a verdict too
        outcome, error = "crash", type(e).__name__
    trace = [sorted(t["queue"]) for t in verifylib.RULE_TRACE.get("trace", [])]
    return {"outcome": outcome, "trace": trace, "error": error}


def run_format(case):
    template, params = case
    try:
        return {"ok": True, "value": template.format(**params)}
    except KeyError:
        return {"ok": False, "kind": "missing"}
    except (ValueError, IndexError) as e:
        return {"ok": False, "kind": "invalid", "error": str(e)}
    except Exception as e:
        return {"ok": False, "kind": "other", "error": type(e).__name__}


def run_unpack(case):
    try:
        return {"ok": True, "rule": in_toto.rulelib.unpack_rule(case)}
    except securesystemslib.exceptions.FormatError:
        return {"ok": False}


RUNNERS = {"fnmatch": run_fnmatch, "rules": run_rules, "format": run_format, "unpack": run_unpack}

request = json.load(sys.stdin)
runner = RUNNERS[request["kind"]]
json.dump([runner(c) for c in request["cases"]], sys.stdout)
