"""The deployment files, checked without Docker or a cluster: linted (hadolint, the Compose
specification's schema, the Kubernetes API's own models, systemd-analyze), and every path,
command, setting name, probe and metric in them matched against the code that runs them.

The commands themselves run elsewhere in tests/deploy: ``firstline serve``, ``python -m
bot.slm_server`` and ``chroma run`` are how the fixtures start the servers, and
``python -m bot.healthcheck`` is what the entry-point test probes them with. Chroma runs from
its official image pinned to the chromadb version the bot is tested with; no file here holds a
default database password.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import chromadb
import pytest
import yaml
from deploy_helpers import ROOT
from packaging.specifiers import SpecifierSet

from bot.app.cli import SETTINGS_CLASSES
from bot.models.packaged import DEFAULT_SLM

DEPLOY = ROOT / "deploy"
# the core's and the adapters' settings
SETTINGS_ENV = {f.metadata["env"] for cls in SETTINGS_CLASSES for f in fields(cls)}
BOT_COMMAND = ["firstline", "serve"]
SLM_COMMAND = ["python", "-m", "bot.slm_server", "--host", "0.0.0.0", "--port", "8080"]
# the official Chroma image: the version of the chromadb client the bot is tested with, its
# default command (`chroma run /config.yaml`) keeping the data in /data
CHROMA_IMAGE = f"chromadb/chroma:{chromadb.__version__}"
CHROMA_DATA = "/data"
# what the fixtures wait for before a server counts as up (tests/deploy/conftest.py)
READY_PATHS = {"slm": "/v1/models", "chroma": "/api/v2/heartbeat", "bot": "/readyz"}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def _console_scripts() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return set(tomllib.load(fh)["project"]["scripts"])


def _module_exists(name: str) -> bool:
    return (ROOT / (name.replace(".", "/") + ".py")).is_file()


# --- Dockerfile ---------------------------------------------------------------------------------
def _instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([_tool("hadolint"), str(DEPLOY / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_copies_what_exists_and_runs_the_console_script() -> None:
    steps = _instructions()
    stages = [rest for word, rest in steps if word == "FROM"]
    assert len(stages) == 3 and stages[0].endswith("AS llama")  # the cached llama.cpp build
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    for word, rest in steps:
        if word == "COPY" and "--from=" not in rest:
            *sources, _target = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert f"!{source}" in ignored or f"!{source}/" in ignored, source
    assert json.loads(dict(steps)["CMD"]) == BOT_COMMAND
    assert BOT_COMMAND[0] in _console_scripts()
    assert dict(steps)["USER"] == "10001:10001"  # non-root, numeric for runAsNonRoot
    healthcheck = dict(steps)["HEALTHCHECK"]
    assert '["python", "-m", "bot.healthcheck"]' in healthcheck
    assert _module_exists("bot.healthcheck")
    env = dict(steps)["ENV"]
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "FIRSTLINE_DATA_DIR=/data" in env and "mkdir -p /data/chroma" in runs
    for name in re.findall(r"\b(FIRSTLINE_[A-Z_]+)=", env):
        assert name in SETTINGS_ENV, name


def test_the_bake_step_assembles_the_default_model_where_the_bot_looks(tmp_path: Path) -> None:
    run = " ".join(rest for word, rest in _instructions() if word == "RUN")
    assert "python -m bot.slm_server --assemble-only" in run
    for package in DEFAULT_SLM.packages:  # what the bake step uninstalls is what it read
        assert package.replace("_", "-") in run, package
    torch_spec = re.search(r"ARG TORCH_SPEC=(\S+)", (DEPLOY / "Dockerfile").read_text())
    assert torch_spec and torch_spec.group(1) in (DEPLOY / "install.sh").read_text()
    env = {"FIRSTLINE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot.slm_server", "--assemble-only"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    baked = Path(result.stdout.strip())
    assert baked == tmp_path / "models" / DEFAULT_SLM.filename
    assert baked.stat().st_size == DEFAULT_SLM.size


def test_pip_install_dot_ships_the_packages_and_the_sample_kb(tmp_path: Path) -> None:
    """What the image's `pip install /src[...]` builds: a wheel with all three packages."""
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
               "-w", str(tmp_path), str(ROOT)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    import zipfile

    [wheel] = tmp_path.glob("firstline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bot/app/serve.py", "bot/slm_server.py", "bot/healthcheck.py", "bot/py.typed",
                   "adapters/slack/__init__.py", "knowledge/samples/it/vpn-password-reset.md"):
        assert needed in names, needed


# --- compose ------------------------------------------------------------------------------------
def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(DEPLOY / "compose.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _ready_url(check: list[str]) -> str:
    assert check[:4] == ["CMD", "python", "-m", "bot.healthcheck"], check
    return check[4]


def test_compose_runs_the_tested_commands_with_real_settings() -> None:
    services = _compose()["services"]
    assert set(services) == {"bot", "slm", "chroma", "postgres"}
    assert services["bot"]["command"] == BOT_COMMAND
    assert services["slm"]["command"] == SLM_COMMAND
    for name in ("bot", "slm"):
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / services[name]["build"]["context"] / "deploy/Dockerfile").is_file()
        for key in services[name].get("environment", {}):
            assert key in SETTINGS_ENV, f"{name}: {key} is not a firstline setting"
        assert _ready_url(services[name]["healthcheck"]["test"]).endswith(READY_PATHS[name])
    chroma = services["chroma"]
    assert chroma["image"] == CHROMA_IMAGE and "command" not in chroma and "build" not in chroma
    assert chroma["volumes"] == [f"chroma-data:{CHROMA_DATA}"]
    assert chroma["healthcheck"]["test"][-1].endswith(READY_PATHS["chroma"])
    env = services["bot"]["environment"]
    assert env["CHROMA_URL"] == "http://chroma:8000" and env["FIRSTLINE_SLM_URL"] == "http://slm:8080/v1"
    assert env["FIRSTLINE_LEDGER_URL"].startswith("postgresql+psycopg://")
    assert {d for d in services["bot"]["depends_on"]} == {"chroma", "slm", "postgres"}
    knowledge = services["bot"]["volumes"][0].rsplit(":", 2)[0]
    default = re.fullmatch(r"\$\{FIRSTLINE_KNOWLEDGE_DIR:-(.+)\}", knowledge)
    assert default and (DEPLOY / default.group(1) / "it/vpn-password-reset.md").is_file()
    assert "lexical:/data/lexical" in services["bot"]["volumes"]  # the saved lexical index
    assert services["bot"]["env_file"][0]["path"] == "firstline.env"


def test_compose_has_no_default_database_password() -> None:
    services = _compose()["services"]
    required = re.compile(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}")
    assert required.fullmatch(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
    url = services["bot"]["environment"]["FIRSTLINE_LEDGER_URL"]
    assert required.search(url) and url.count("${") == 1


def _image_tag(image: str) -> str:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"{image}: no tag"
    return tag


def test_images_are_pinned_and_chroma_matches_the_client() -> None:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    services = _compose()["services"]
    for name, service in services.items():
        tag = _image_tag(re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", service["image"]))
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {service['image']}"
    assert _image_tag(services["bot"]["image"]).rstrip("}") == project["version"]
    [client] = [d for d in project["dependencies"] if re.match(r"chromadb\b", d)]
    assert chromadb.__version__ in SpecifierSet(client.removeprefix("chromadb"))
    built = _kustomized(_with_secrets_env(Path(tempfile.mkdtemp())))
    for container in _containers(built).values():
        tag = _image_tag(container["image"])
        assert tag != "latest" and re.search(r"\d", tag), container["image"]
    assert _containers(built)["chroma"]["image"] == CHROMA_IMAGE


# placeholders an operator replaces; anything else after "user:" in a database URL is a password
_PLACEHOLDERS = re.compile(r"<password>|PASSWORD|\$\{POSTGRES_PASSWORD:\?[^}]+\}")


def test_no_default_password_anywhere_in_deploy() -> None:
    """Database URLs carry a placeholder or the required variable, no variable named like a
    password has a default, and no CHANGE-ME value waits to be applied as it is.
    (test-services.sh is the test suite's loopback-only PostgreSQL, not a deployment.)"""
    checked = 0
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".pyc") or path.name == "test-services.sh":
            continue
        text = path.read_text()
        checked += 1
        for password in re.findall(r"postgres\w*(?:\+\w+)?://[^:/@\s]+:([^@\s]+)@", text):
            assert _PLACEHOLDERS.fullmatch(password), f"{path.name}: password {password!r}"
        assert not re.search(r"\$\{\w*PASSWORD\w*:-", text), f"{path.name}: a default password"
        assert "CHANGE-ME" not in text, path.name
    assert checked >= 10


def test_env_file_example_names_only_real_settings() -> None:
    for line in (DEPLOY / "firstline.env.example").read_text().splitlines():
        line = line.lstrip("#").strip()
        if re.match(r"^[A-Za-z_]+=", line):
            assert line.split("=")[0] in SETTINGS_ENV, line


# --- Kubernetes ---------------------------------------------------------------------------------
def _manifests() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((DEPLOY / "kubernetes/kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / resource).read_text()) if d]
    return docs


def _check_model(value: Any, type_name: str, where: str) -> None:
    """``value`` against the Kubernetes client's model ``type_name``: no unknown field anywhere."""
    from kubernetes import client

    if type_name.lower().startswith("list["):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check_model(item, type_name[5:-1], f"{where}[{i}]")
    elif type_name.lower().startswith(("dict(", "dict[")):
        assert isinstance(value, dict), where
    elif type_name in ("str", "int", "bool", "float", "object", "datetime"):
        expected = {"str": str, "int": int, "bool": bool, "float": (int, float)}.get(type_name)
        assert expected is None or isinstance(value, expected), f"{where}: {value!r}"
    else:
        model = getattr(client, type_name)
        assert isinstance(value, dict), where
        by_key = {key: model.openapi_types[attr] for attr, key in model.attribute_map.items()}
        for key, item in value.items():
            assert key in by_key, f"{where}: unknown field {key!r} in {type_name}"
            _check_model(item, by_key[key], f"{where}.{key}")


def test_kubernetes_manifests_are_valid_api_objects() -> None:
    docs = _manifests()
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    assert "Deployment/firstline-bot" in kinds and "Deployment/firstline-slm" in kinds
    assert "StatefulSet/firstline-chroma" in kinds
    assert not [k for k in kinds if k.startswith("Secret/")]  # generated from the operator's file
    assert {k for k in kinds if k.startswith("Service/")} == {
        "Service/firstline-bot", "Service/firstline-slm", "Service/firstline-chroma"}
    for doc in docs:
        version = doc["apiVersion"].split("/")[-1]
        _check_model(doc, f"{version.capitalize()}{doc['kind']}", doc["metadata"]["name"])


def _containers(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for d in docs if d["kind"] in ("Deployment", "StatefulSet")
            for c in d["spec"]["template"]["spec"]["containers"]}


def test_kubernetes_runs_the_tested_commands_with_probes_resources_and_settings() -> None:
    docs = _manifests()
    containers = _containers(docs)
    assert containers["bot"]["command"] == BOT_COMMAND
    assert containers["slm"]["command"] == SLM_COMMAND
    chroma = containers["chroma"]
    assert chroma["image"] == CHROMA_IMAGE and "command" not in chroma and "args" not in chroma
    assert [m["mountPath"] for m in chroma["volumeMounts"]] == [CHROMA_DATA]
    bot = containers["bot"]
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert containers["slm"]["readinessProbe"]["httpGet"]["path"] == READY_PATHS["slm"]
    assert containers["chroma"]["readinessProbe"]["httpGet"]["path"] == READY_PATHS["chroma"]
    for name, container in containers.items():
        assert container["resources"]["requests"]["cpu"], name
        assert container["resources"]["requests"]["memory"], name
        for item in container.get("env", []):
            assert item["name"] in SETTINGS_ENV, f"{name}: {item['name']}"
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            for key in doc["data"]:
                assert key in SETTINGS_ENV, f"{doc['metadata']['name']}: {key}"
        if doc["kind"] in ("Deployment", "StatefulSet"):
            assert doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    assert config["CHROMA_URL"] == "http://firstline-chroma:8000"
    assert config["FIRSTLINE_SLM_URL"] == "http://firstline-slm:8080/v1"
    bot_replicas = next(d for d in docs if d["metadata"]["name"] == "firstline-bot")
    assert bot_replicas["spec"]["replicas"] >= 2


def _with_secrets_env(folder: Path) -> Path:
    """A copy of deploy/kubernetes with the operator's secrets file made from the example."""
    target = folder / "kubernetes"
    shutil.copytree(DEPLOY / "kubernetes", target)
    example = (target / "firstline-secrets.env.example").read_text()
    (target / "firstline-secrets.env").write_text(example.replace("<password>", "s3cret"))
    return target


def _kustomize(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("kubectl"), "kustomize", str(folder)],
                          capture_output=True, text=True, timeout=120)


def _kustomized(folder: Path) -> list[dict[str, Any]]:
    result = _kustomize(folder)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_the_secret_comes_only_from_the_operators_file(tmp_path: Path) -> None:
    kustomization = yaml.safe_load((DEPLOY / "kubernetes/kustomization.yaml").read_text())
    [generator] = kustomization["secretGenerator"]
    assert generator == {"name": "firstline-secrets", "envs": ["firstline-secrets.env"]}
    assert not (DEPLOY / "kubernetes/firstline-secrets.env").exists()
    assert "deploy/kubernetes/firstline-secrets.env" in (ROOT / ".gitignore").read_text()
    missing = _kustomize(DEPLOY / "kubernetes")  # no file, no default: the build stops
    assert missing.returncode != 0 and "firstline-secrets.env" in missing.stderr
    example = (DEPLOY / "kubernetes/firstline-secrets.env.example").read_text()
    keys = re.findall(r"^([A-Za-z_]+)=", example, re.M)
    assert "FIRSTLINE_LEDGER_URL" in keys and "FIRSTLINE_USER_HASH_SALT" in keys
    for key in keys:
        assert key in SETTINGS_ENV, key


def test_kustomize_builds_the_manifests(tmp_path: Path) -> None:
    built = _kustomized(_with_secrets_env(tmp_path))
    assert len(built) == len(_manifests()) + 1  # and the generated Secret
    [secret] = [d for d in built if d["kind"] == "Secret"]
    assert secret["metadata"]["name"].startswith("firstline-secrets-")  # content-hashed
    ledger = secret["data"]["FIRSTLINE_LEDGER_URL"]
    assert "s3cret" in __import__("base64").b64decode(ledger).decode()
    bot = _containers(built)["bot"]
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in bot["envFrom"]
    images = {c["image"] for c in _containers(built).values()}
    assert images == {"registry.example.com/firstline:0.1.0", CHROMA_IMAGE}


# --- Grafana ------------------------------------------------------------------------------------
def _metric_labels() -> dict[str, set[str]]:
    """Every series name bot/metrics.py exposes, with its label names."""
    from prometheus_client.metrics import MetricWrapperBase

    import bot.ops.metrics as metrics

    names: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            labels = set(value._labelnames)
            for family in value.describe():
                suffixes = {"counter": ["_total", "_created"], "gauge": [""],
                            "histogram": ["_bucket", "_count", "_sum", "_created"]}[family.type]
                for suffix in suffixes:
                    extra = {"le"} if suffix == "_bucket" else set()
                    names[family.name + suffix] = labels | extra
    return names


def test_grafana_dashboard_queries_only_metrics_the_bot_exposes() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    known = _metric_labels()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("answers", "escalation", "latency", "all-cloud", "tokens", "index", "reindex"):
        assert topic in titles, topic
    for expr in exprs:
        used = re.findall(r"\b(firstline_[a-z_]+)", expr)
        assert used, expr
        for name in used:
            assert name in known, f"{name} in {expr}"
        for group in re.findall(r"\bby \(([^)]*)\)", expr):
            for label in (x.strip() for x in group.split(",")):
                assert any(label in known[n] for n in used), f"label {label} in {expr}"
        for selector in re.findall(r"firstline_[a-z_]+\{([^}]*)\}", expr):
            for label in re.findall(r"([a-z_]+)\s*!?=~?", selector):
                assert any(label in known[n] for n in used), f"label {label} in {expr}"


# --- systemd ------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["firstline.service", "firstline-slm.service"])
def test_systemd_units_verify_and_start_real_entry_points(unit: str, tmp_path: Path) -> None:
    text = (DEPLOY / unit).read_text()
    [exec_start] = re.findall(r"^ExecStart=(.+)$", text, re.M)
    here = exec_start.replace("/opt/firstline", str(ROOT)).split()
    assert Path(here[0]).is_file(), f"{here[0]} (deploy/install.sh makes it)"
    if here[1:3] == ["-m", "bot.slm_server"]:
        assert here[1:] == ["-m", "bot.slm_server", "--host", "127.0.0.1", "--port", "8080"]
    else:
        assert [Path(here[0]).name, *here[1:]] == BOT_COMMAND
    local = tmp_path / unit
    local.write_text(text.replace("/opt/firstline", str(ROOT)))
    result = subprocess.run([_tool("systemd-analyze"), "verify", str(local)],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in result.stderr.splitlines() if unit in line]
    assert result.returncode == 0 and not problems, result.stderr
