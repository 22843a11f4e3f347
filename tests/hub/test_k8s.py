"""deploy/k8s offline: the values file fits the pinned Zero-to-JupyterHub chart, the image installs as the README.

The chart's schema and default values are copied into deploy/k8s/chart-<version>/ (their source in their first
lines); Helm validates the merged values against that schema before rendering, and so does this test. Every key
of the course's values must also be one the schema names: a misspelt key under a free-form object (where the
schema allows anything) would otherwise pass silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
CHART = K8S / "chart-4.4.0"
#: Objects whose contents the chart passes through unchecked (KubeSpawner's or Kubernetes' own fields).
PASSTHROUGH = {
    ("singleuser", "profileList"),
    ("singleuser", "storage", "extraVolumes"),
    ("singleuser", "storage", "extraVolumeMounts"),
    ("hub", "extraConfig"),
    ("hub", "config"),
    ("hub", "loadRoles"),
    ("singleuser", "extraEnv"),
}


def load(path: Path):
    return yaml.safe_load(path.read_text())


def merged(defaults, values):
    """Helm's merge of user values over the chart's defaults (maps merge, everything else is replaced)."""
    if isinstance(defaults, dict) and isinstance(values, dict):
        return {
            key: merged(defaults.get(key), value) if key in defaults else value for key, value in values.items()
        } | {key: value for key, value in defaults.items() if key not in values}
    return values


def unknown_keys(values, schema, path=()) -> list[str]:
    """Keys of ``values`` that the schema does not name (free-form objects of PASSTHROUGH aside)."""
    if path in PASSTHROUGH or not isinstance(values, dict):
        return []
    properties = schema.get("properties", {})
    found = []
    for key, value in values.items():
        if key in properties:
            found += unknown_keys(value, properties[key], (*path, key))
        elif isinstance(schema.get("additionalProperties"), dict):
            found += unknown_keys(value, schema["additionalProperties"], (*path, key))
        elif schema.get("additionalProperties") is not True or not properties:
            found.append(".".join((*path, key)))
    return found


@pytest.fixture(scope="module")
def schema():
    return load(CHART / "values.schema.yaml")


@pytest.fixture(scope="module")
def values():
    return load(K8S / "values.yaml")


def test_values_fit_the_chart_schema(schema, values):
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(merged(load(CHART / "values.yaml"), values)),
        key=lambda error: list(error.path),
    )
    assert not errors, "\n".join(f"{'.'.join(map(str, error.path))}: {error.message}" for error in errors)


def test_every_key_is_one_the_schema_names(schema, values):
    assert unknown_keys(values, schema) == []


def test_the_check_catches_a_misspelt_key(schema, values):
    wrong = merged(values, {"singleuser": {"memory": {"limt": "6G"}}, "cull": {"timout": 60}})
    assert unknown_keys(wrong, schema) == ["singleuser.memory.limt", "cull.timout"]
    assert any(jsonschema.Draft7Validator(schema).iter_errors(merged(load(CHART / "values.yaml"), wrong)))


def test_values_set_what_a_course_needs(values):
    user = values["singleuser"]
    assert user["cpu"]["guarantee"] <= user["cpu"]["limit"]
    assert values["cull"]["enabled"] and values["scheduling"]["userPlaceholder"]["enabled"]
    (gpu,) = [
        profile
        for profile in user["profileList"]
        if "nvidia.com/gpu" in profile.get("kubespawner_override", {}).get("extra_resource_limits", {})
    ]
    override = gpu["kubespawner_override"]
    shm = [volume for volume in override["volumes"] if volume.get("emptyDir", {}).get("medium") == "Memory"]
    assert shm and any(
        mount["mountPath"] == "/dev/shm" and mount["name"] == shm[0]["name"] for mount in override["volume_mounts"]
    )
    # An override replaces the list: the GPU profile mounts the exchange too.
    exchange = {mount["mountPath"] for mount in user["storage"]["extraVolumeMounts"]}
    assert exchange <= {mount["mountPath"] for mount in override["volume_mounts"]}


def test_dockerfile_installs_as_the_readme_says():
    readme = (REPO / "README.md").read_text()
    (install,) = re.findall(r"`(python3\.11 -m venv \.venv && \.venv/bin/pip install -e \"\.\[lab\]\")", readme)
    runs = [
        line.removeprefix("RUN ").strip()
        for line in (K8S / "Dockerfile").read_text().splitlines()
        if line.startswith("RUN ")
    ]
    assert install in runs, (install, runs)
    # The hub's addition is the one the README's section on serving a class names.
    assert '.venv/bin/pip install -e ".[lab,hub]"' in readme
    assert any(run.startswith('.venv/bin/pip install -e ".[lab,hub]"') for run in runs), runs
