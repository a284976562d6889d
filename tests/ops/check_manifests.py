#!/usr/bin/python3
"""Checks depthd's deployment files without a cluster or a daemon.

1. Schema: every Kubernetes object in deploy/k8s/*.yaml against the API types generated from
   Kubernetes' OpenAPI in Debian's python3-kubernetes (API 1.22): every field known (a typo is
   an error, not silently dropped as the API server would), every value of the declared type,
   every required field present, a few enumerations. Newer than 1.22 and described here from the
   Kubernetes API reference: the probes' `grpc` (GRPCAction, 1.24+) and autoscaling/v2 (1.23+,
   the schema of v2beta2). KEDA's ScaledObject (keda.sh/v1alpha1) against the fields of its
   reference (keda.sh/docs/2.10/concepts/scaling-deployments/), with the prometheus trigger's
   metadata. What this does not prove: admission by a real API server (defaulting, immutable
   fields, quotas), nor that KEDA or prometheus-adapter is installed.
2. Consistency, the point of these files: depthd runs as a StatefulSet whose state folder is a
   volume per replica (volumeClaimTemplates: an emptyDir would lose acknowledged jobs), governed
   by a headless Service that selects its pods, and each pod advertises its own DNS name
   ($(POD_NAME).<serviceName>...:<grpc port>, POD_NAME from the Downward API); Services and the
   PodDisruptionBudget select the StatefulSet's pods; named target ports exist; --listen/--metrics_listen match the container
   ports and the scrape annotation; beyond loopback either TLS and tokens or --allow_insecure;
   terminationGracePeriodSeconds is longer than --shutdown_grace; readiness is the gRPC health
   probe on the gRPC port and liveness is not (NOT_SERVING during a drain must not restart the
   pod); the PDB uses maxUnavailable; a headless Service exists for client-side balancing; the
   autoscalers target an existing StatefulSet, their PromQL parses (promtool) and uses only
   metrics depthd exports (server/metrics.cc); the HPA's metric is one the adapter rule serves.
3. deploy/docker-compose.yml: `docker-compose config` (Debian's docker-compose validates the
   file against the Compose schema without a daemon) when it is installed; the files it mounts
   exist; its stop grace is longer than depthd's; the Grafana data source's uid is the one the
   dashboard's panels use; the dashboard's panel ids are unique and its panels do not overlap.

usage: check_manifests.py [REPOSITORY_ROOT]     exit 0 passed, 1 failed, 77 skipped
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    import yaml
    from kubernetes.client import Configuration
    from kubernetes.client import models
except ImportError as error:
    print(f"check_manifests: SKIPPED: {error} (Debian: python3-yaml, python3-kubernetes)")
    sys.exit(77)
if shutil.which("promtool") is None:
    print("check_manifests: SKIPPED: promtool is missing (Debian: prometheus)")
    sys.exit(77)

errors = []


def error(where, message):
    errors.append(f"{where}: {message}")


# -- 1. schema ---------------------------------------------------------------------------------

# Types newer than python3-kubernetes 22.6 (API 1.22), from the Kubernetes API reference.
EXTRA_TYPES = {
    "V1GRPCAction": ({"port": "int", "service": "str"}, {"port"}),
}
EXTRA_FIELDS = {"V1Probe": {"grpc": "V1GRPCAction"}}
ENUMS = {
    ("V1ServicePort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1ContainerPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1NetworkPolicyPort", "protocol"): {"TCP", "UDP", "SCTP"},
    ("V1ServiceSpec", "type"): {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"},
    ("V1NetworkPolicySpec", "policy_types"): {"Ingress", "Egress"},
    ("V2beta2MetricSpec", "type"): {"Object", "Pods", "Resource", "ContainerResource", "External"},
    ("V2beta2MetricTarget", "type"): {"Utilization", "Value", "AverageValue"},
    ("V2beta2HPAScalingPolicy", "type"): {"Pods", "Percent"},
    ("V1SeccompProfile", "type"): {"RuntimeDefault", "Unconfined", "Localhost"},
}
# resource.Quantity: a string in the generated types, but the API server also takes a number.
QUANTITIES = {("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
              ("V1EmptyDirVolumeSource", "size_limit"), ("V2beta2MetricTarget", "average_value"),
              ("V2beta2MetricTarget", "value")}
QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
KINDS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("v1", "Service"): "V1Service",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler",
}
# KEDA's ScaledObject (keda.sh/v1alpha1), the fields its reference documents.
KEDA = {
    "ScaledObject": ({"apiVersion": "str", "kind": "str", "metadata": "V1ObjectMeta", "spec": "KedaSpec"},
                     {"apiVersion", "kind", "metadata", "spec"}),
    "KedaSpec": ({"scaleTargetRef": "KedaTarget", "pollingInterval": "int", "cooldownPeriod": "int",
                  "idleReplicaCount": "int", "minReplicaCount": "int", "maxReplicaCount": "int",
                  "fallback": "KedaFallback", "advanced": "KedaAdvanced", "triggers": "list[KedaTrigger]"},
                 {"scaleTargetRef", "triggers"}),
    "KedaTarget": ({"apiVersion": "str", "kind": "str", "name": "str", "envSourceContainerName": "str"}, {"name"}),
    "KedaFallback": ({"failureThreshold": "int", "replicas": "int"}, {"failureThreshold", "replicas"}),
    "KedaAdvanced": ({"restoreToOriginalReplicaCount": "bool", "horizontalPodAutoscalerConfig": "KedaHpaConfig"},
                     set()),
    "KedaHpaConfig": ({"name": "str", "behavior": "V2beta2HorizontalPodAutoscalerBehavior"}, set()),
    "KedaTrigger": ({"type": "str", "name": "str", "metadata": "dict(str, str)", "useCachedMetrics": "bool",
                     "metricType": "str", "authenticationRef": "KedaAuthRef"}, {"type", "metadata"}),
    "KedaAuthRef": ({"name": "str", "kind": "str"}, {"name"}),
}
KEDA_PROMETHEUS_REQUIRED = {"serverAddress", "query", "threshold"}
KEDA_PROMETHEUS_KNOWN = KEDA_PROMETHEUS_REQUIRED | {
    "activationThreshold", "namespace", "customHeaders", "ignoreNullValues", "queryParameters",
    "unsafeSsl", "authModes", "cortexOrgID"}


def model_fields(name):
    """{json key: (attribute, type)} and the required json keys of a type."""
    if name in KEDA:
        fields, required = KEDA[name]
        return {k: (k, t) for k, t in fields.items()}, set(required)
    if name in EXTRA_TYPES:
        fields, required = EXTRA_TYPES[name]
        return {k: (k, t) for k, t in fields.items()}, set(required)
    cls = getattr(models, name)
    fields = {cls.attribute_map[a]: (a, t) for a, t in cls.openapi_types.items()}
    for key, t in EXTRA_FIELDS.get(name, {}).items():
        fields[key] = (key, t)
    # A required field's setter refuses None (client-side validation).
    probe = cls.__new__(cls)
    probe.local_vars_configuration = Configuration()
    probe.local_vars_configuration.client_side_validation = True
    required = set()
    for key, (attribute, _) in fields.items():
        if not hasattr(cls, attribute):
            continue
        try:
            setattr(probe, attribute, None)
        except ValueError:
            required.add(key)
    return fields, required


def check(value, type_name, where, owner=None, attribute=None):
    if (owner, attribute) in QUANTITIES:
        values = value.values() if isinstance(value, dict) else [value]
        if type_name.startswith("dict(") and not isinstance(value, dict):
            error(where, "must be a map of quantities")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (str, int, float)) or not QUANTITY.match(str(v)):
                error(where, f"{v!r} is not a quantity")
        return
    if type_name == "object":  # IntOrString, Quantity, RawExtension
        if not isinstance(value, (str, int, float, dict, list)):
            error(where, f"unexpected {type(value).__name__}")
        return
    if type_name == "str":
        if not isinstance(value, str):
            error(where, f"must be a string, not {type(value).__name__} {value!r}")
        elif (owner, attribute) in ENUMS and value not in ENUMS[(owner, attribute)]:
            error(where, f"{value!r} is not one of {sorted(ENUMS[(owner, attribute)])}")
        return
    if type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            error(where, f"must be an integer, not {type(value).__name__} {value!r}")
        return
    if type_name == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            error(where, f"must be a number, not {value!r}")
        return
    if type_name == "bool":
        if not isinstance(value, bool):
            error(where, f"must be true or false, not {value!r}")
        return
    if type_name == "datetime":
        if not isinstance(value, str):
            error(where, "must be a timestamp string")
        return
    if type_name.startswith("list["):
        if not isinstance(value, list):
            error(where, f"must be a list, not {type(value).__name__}")
            return
        inner = type_name[5:-1]
        for i, item in enumerate(value):
            if (owner, attribute) in ENUMS and inner == "str":
                if item not in ENUMS[(owner, attribute)]:
                    error(f"{where}[{i}]", f"{item!r} is not one of {sorted(ENUMS[(owner, attribute)])}")
                continue
            check(item, inner, f"{where}[{i}]")
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            error(where, f"must be a map, not {type(value).__name__}")
            return
        inner = type_name[type_name.index(",") + 1:-1].strip()
        for k, v in value.items():
            if not isinstance(k, str):
                error(where, f"key {k!r} must be a string")
            check(v, inner, f"{where}.{k}")
        return
    if not isinstance(value, dict):
        error(where, f"must be an object ({type_name}), not {type(value).__name__} {value!r}")
        return
    fields, required = model_fields(type_name)
    for key in sorted(required - set(value)):
        error(where, f"required field {key!r} ({type_name}) is missing")
    for key, item in value.items():
        if key not in fields:
            error(f"{where}.{key}", f"unknown field of {type_name} (known: {', '.join(sorted(fields))})")
            continue
        attribute_name, item_type = fields[key]
        check(item, item_type, f"{where}.{key}", type_name, attribute_name)


# -- 2. consistency ----------------------------------------------------------------------------

def depthd_metric_names():
    with open(os.path.join(ROOT, "server/metrics.cc")) as f:
        names = set(re.findall(r'\.Name\("(depthd_[a-z_]+)"\)', f.read()))
    histograms = {"depthd_stage_duration_seconds", "depthd_job_duration_seconds", "depthd_queue_wait_seconds",
                  "depthd_coalign_iterations", "depthd_live_latency_frames"}
    for h in histograms & names:
        names |= {h + "_bucket", h + "_sum", h + "_count"}
    return names


def promql_errors(expressions):
    """Parses each expression with promtool (as recording rules); returns promtool's complaints."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "check", "rules": [
            {"record": f"check:expr_{i}", "expr": e} for i, e in enumerate(expressions)]}]}, f)
        path = f.name
    try:
        run = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        return "" if run.returncode == 0 else (run.stdout + run.stderr).strip()
    finally:
        os.unlink(path)


def flag(args, name, default=None):
    for i, a in enumerate(args):
        if a == f"--{name}" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


def seconds(duration):
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", duration):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_replicas(where, d, services, labels, container, ports):
    """A StatefulSet: a volume per replica for the state, and each pod names itself."""
    spec = d["spec"]
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    state = next((m["name"] for m in container.get("volumeMounts", []) if m["mountPath"] == "/var/lib/depthd"), None)
    if state not in claims:
        error(where, f"the state folder (volume {state!r}) is no volumeClaimTemplate: a replaced pod would "
                     "lose the jobs it acknowledged")
    governing = next((s for s in services if s["metadata"]["name"] == spec.get("serviceName")), None)
    if governing is None or governing["spec"].get("clusterIP") != "None" or \
            not selects(governing["spec"].get("selector", {}), labels):
        error(where, f"serviceName {spec.get('serviceName')!r} is no headless Service selecting its pods "
                     "(the pods would have no DNS names)")
    advertised = flag(container.get("args", []), "advertise_address")
    expected = f"$(POD_NAME).{spec.get('serviceName')}."
    if advertised is None or not advertised.startswith(expected) or \
            not advertised.endswith(f":{ports.get('grpc')}"):
        error(where, f"--advertise_address {advertised!r} is not {expected}...:{ports.get('grpc')}: clients "
                     "would not find the replica that holds their job")
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in container.get("env", [])}
    for var, field in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
        if f"$({var})" in (advertised or "") and env.get(var) != field:
            error(where, f"env {var} is not the Downward API's {field}")


def check_deployment(where, d, services, pdbs):
    spec = d["spec"]
    pod = spec["template"]
    labels = pod["metadata"].get("labels", {})
    if not selects(spec["selector"].get("matchLabels", {}), labels):
        error(where, "spec.selector does not select the pod template's labels")
    pod_spec = pod["spec"]
    container = next((c for c in pod_spec["containers"] if c["name"] == "depthd"), None)
    if container is None:
        error(where, "no container named depthd")
        return
    args = container.get("args", [])
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    listen, metrics_listen = flag(args, "listen", "127.0.0.1:50051"), flag(args, "metrics_listen", "127.0.0.1:9464")
    if int(listen.rsplit(":", 1)[1]) != ports.get("grpc"):
        error(where, f"--listen {listen} is not the container port named grpc ({ports.get('grpc')})")
    if int(metrics_listen.rsplit(":", 1)[1]) != ports.get("metrics"):
        error(where, f"--metrics_listen {metrics_listen} is not the container port named metrics")
    annotations = pod["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/port") != str(ports.get("metrics")):
        error(where, "the prometheus.io/port annotation is not the metrics port")
    host = listen.rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        secure = flag(args, "tls_cert") and flag(args, "tls_key") and flag(args, "auth_tokens")
        if not secure and "--allow_insecure" not in args:
            error(where, f"--listen {listen} beyond loopback needs --tls_cert/--tls_key/--auth_tokens or "
                         "--allow_insecure (depthd refuses to start otherwise)")
    grace = seconds(flag(args, "shutdown_grace", "30s"))
    period = pod_spec.get("terminationGracePeriodSeconds", 30)
    if period <= grace + 5:
        error(where, f"terminationGracePeriodSeconds {period} is not longer than --shutdown_grace "
                     f"({grace:g} s) plus 5 s to re-queue and exit")
    readiness = container.get("readinessProbe", {})
    if readiness.get("grpc", {}).get("port") != ports.get("grpc"):
        error(where, "the readiness probe is not gRPC health on the gRPC port (a draining pod must leave the Service)")
    if "grpc" in container.get("livenessProbe", {}):
        error(where, "the liveness probe uses gRPC health: NOT_SERVING during a drain would restart the pod")
    if "startupProbe" not in container:
        error(where, "no startup probe: the model's load counts against the liveness probe")
    for mount in container.get("volumeMounts", []):
        if mount["mountPath"] == "/var/lib/depthd":
            break
    else:
        error(where, "nothing is mounted on /var/lib/depthd (the image's --state_dir)")
    if d["kind"] == "StatefulSet":
        check_replicas(where, d, services, labels, container, ports)
    else:
        error(where, "depthd runs as a StatefulSet (a volume per replica keeps its jobs), not a Deployment")
    chosen = [s for s in services if selects(s["spec"].get("selector", {}), labels)]
    if not chosen:
        error(where, "no Service selects its pods")
    if not any(s["spec"].get("clusterIP") == "None" for s in chosen):
        error(where, "no headless Service for client-side gRPC load balancing")
    for s in chosen:
        for p in s["spec"]["ports"]:
            target = p.get("targetPort", p["port"])
            if isinstance(target, str) and target not in ports:
                error(f"Service {s['metadata']['name']}", f"targetPort {target!r} is no port of the depthd container")
    budgets = [p for p in pdbs if selects(p["spec"].get("selector", {}).get("matchLabels", {}), labels)]
    if not budgets:
        error(where, "no PodDisruptionBudget selects its pods")
    for p in budgets:
        if "maxUnavailable" not in p["spec"]:
            error(f"PodDisruptionBudget {p['metadata']['name']}",
                  "use maxUnavailable: minAvailable blocks every drain of a single replica")


def main():
    exported = depthd_metric_names()
    objects = []
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy/k8s/*.yaml"))):
        with open(path) as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is None:
                    continue
                where = f"{os.path.relpath(path, ROOT)}#{i} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
                key = (doc.get("apiVersion"), doc.get("kind"))
                if key == ("keda.sh/v1alpha1", "ScaledObject"):
                    check(doc, "ScaledObject", where)
                elif key in KINDS:
                    check(doc, KINDS[key], where)
                else:
                    error(where, f"no schema for {key}")
                objects.append((where, doc))
    by_kind = {}
    for where, doc in objects:
        by_kind.setdefault(doc["kind"], []).append((where, doc))
    workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])
    statefulsets = {d["metadata"]["name"]: d for _, d in by_kind.get("StatefulSet", [])}
    services = [d for _, d in by_kind.get("Service", [])]
    pdbs = [d for _, d in by_kind.get("PodDisruptionBudget", [])]
    if errors:  # consistency checks assume well-formed objects
        return report(len(objects))
    for where, d in workloads:
        check_deployment(where, d, services, pdbs)

    expressions = []
    adapter_metrics = set()
    for where, cm in by_kind.get("ConfigMap", []):
        config = yaml.safe_load(cm.get("data", {}).get("config.yaml", "")) or {}
        for rule in config.get("rules", []):
            query = rule["metricsQuery"].replace("<<.LabelMatchers>>", 'namespace="default",pod=~"depthd-.*"')
            query = query.replace("<<.GroupBy>>", "pod")
            expressions.append((where, query))
            adapter_metrics.add(rule.get("name", {}).get("as", ""))
            series = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", rule["seriesQuery"]).group(1)
            if series not in exported:
                error(where, f"seriesQuery selects {series}, which depthd does not export")
    for where, so in by_kind.get("ScaledObject", []):
        spec = so["spec"]
        target = spec["scaleTargetRef"]
        if target.get("kind", "Deployment") != "StatefulSet" or target["name"] not in statefulsets:
            error(where, f"scaleTargetRef {target} is no StatefulSet of deploy/k8s")
        if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
            error(where, "minReplicaCount > maxReplicaCount")
        for trigger in spec["triggers"]:
            if trigger["type"] != "prometheus":
                continue
            meta = trigger["metadata"]
            for key in sorted(KEDA_PROMETHEUS_REQUIRED - set(meta)):
                error(where, f"prometheus trigger without {key}")
            for key in sorted(set(meta) - KEDA_PROMETHEUS_KNOWN):
                error(where, f"prometheus trigger: unknown metadata {key}")
            try:
                if float(meta.get("threshold", "x")) <= 0:
                    error(where, "threshold must be > 0")
            except ValueError:
                error(where, f"threshold {meta.get('threshold')!r} is not a number")
            if "query" in meta:
                expressions.append((where, meta["query"]))
    for where, hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] != "StatefulSet" or target["name"] not in statefulsets:
            error(where, f"scaleTargetRef {target} is no StatefulSet of deploy/k8s")
        for metric in hpa["spec"].get("metrics", []):
            if metric["type"] == "Pods" and metric["pods"]["metric"]["name"] not in adapter_metrics:
                error(where, f"metric {metric['pods']['metric']['name']} is served by no prometheus-adapter rule here")
    names = set()
    for where, expr in expressions:
        used = set(re.findall(r"\b(depthd_[a-z_]+)\b", expr))
        names |= used
        for name in sorted(used - exported):
            error(where, f"{name} is not a metric depthd exports (server/metrics.cc)")
    complaint = promql_errors([e for _, e in expressions])
    if complaint:
        error("autoscaler PromQL", complaint)
    check_compose()
    return report(len(objects), len(expressions))


def check_compose():
    path = os.path.join(ROOT, "deploy/docker-compose.yml")
    where = "deploy/docker-compose.yml"
    with open(path) as f:
        compose = yaml.safe_load(f)
    if shutil.which("docker-compose"):
        run = subprocess.run(["docker-compose", "-f", path, "config", "-q"], capture_output=True, text=True)
        if run.returncode != 0:
            error(where, f"docker-compose config: {run.stderr.strip()}")
        else:
            print("check_manifests: docker-compose config: valid")
    else:
        print("check_manifests: docker-compose is not installed: the Compose schema is not checked")
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                if not os.path.exists(os.path.join(os.path.dirname(path), source)):
                    error(where, f"{name} mounts {source}, which does not exist")
    depthd = compose["services"]["depthd"]
    command = depthd.get("command", [])
    grace = seconds(flag(command, "shutdown_grace", "30s"))
    if seconds(depthd.get("stop_grace_period", "10s")) <= grace:
        error(where, f"depthd's stop_grace_period is not longer than --shutdown_grace ({grace:g} s)")
    grafana = os.path.join(ROOT, "deploy/grafana")
    with open(os.path.join(grafana, "provisioning/datasources/prometheus.yml")) as f:
        uids = {d["uid"] for d in yaml.safe_load(f)["datasources"]}
    for dash_path in glob.glob(os.path.join(grafana, "dashboards/*.json")):
        with open(dash_path) as f:
            dash = json.load(f)
        rel = os.path.relpath(dash_path, ROOT)
        ids = [p["id"] for p in dash["panels"]]
        if len(ids) != len(set(ids)):
            error(rel, "panel ids are not unique")
        cells = {}
        for p in dash["panels"]:
            g = p["gridPos"]
            if g["x"] < 0 or g["x"] + g["w"] > 24:
                error(rel, f"panel {p['title']!r} is outside the 24 columns")
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        error(rel, f"panels {cells[(x, y)]!r} and {p['title']!r} overlap")
                    cells[(x, y)] = p["title"]
            for ds in [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]:
                if ds and ds.get("uid") not in uids:
                    error(rel, f"panel {p['title']!r} uses data source {ds.get('uid')!r}, not a provisioned one {sorted(uids)}")


def report(count, queries=0):
    if errors:
        print("check_manifests: FAILED:\n  " + "\n  ".join(errors))
        return 1
    print(f"check_manifests: {count} Kubernetes objects valid and consistent, {queries} autoscaler queries "
          "parse and use exported metrics, compose and dashboard consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
