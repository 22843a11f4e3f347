"""deploy/hub/jupyterhub_config.py read as JupyterHub reads it, for each login choice (no root, nothing started)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from deploy.hub.hub import DEFAULTS, TOKENS

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "hub" / "jupyterhub_config.py"
LTI = {
    "issuer": "https://lms.example.edu",
    "client_id": ["abc"],
    "authorize_url": "https://lms.example.edu/auth",
    "jwks_endpoint": "https://lms.example.edu/certs",
    "username_key": "custom_uname",
}


def load(tmp_path: Path, monkeypatch, auth: str):
    """The configuration for a data folder like the one ``hub.py setup`` makes."""
    settings = {
        **DEFAULTS,
        "auth": auth,
        "lti13": LTI,
        "course": "c1",
        "grader": "grader-c1",
        "grader_home": str(tmp_path / "grader"),
        "course_env": "/opt/env",
        "hub_python": "/opt/env/bin/python",
        "proxy_command": "/usr/bin/configurable-http-proxy",
        "instructors": ["ada"],
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    (tmp_path / "roster.json").write_text(json.dumps([{"id": "s1"}, {"id": "s2"}]))
    (tmp_path / "secrets").mkdir()
    for name in TOKENS:
        (tmp_path / "secrets" / name).write_text(f"{name}-value")
    monkeypatch.setenv("COURSE_HUB_DATA", str(tmp_path))
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


@pytest.mark.parametrize(
    ("auth", "authenticator"),
    [
        ("pam", "pam"),
        ("dummy", "dummy"),
        ("lti13", "ltiauthenticator.lti13.auth.LTI13Authenticator"),
    ],
)
def test_each_login_choice(tmp_path, monkeypatch, auth, authenticator):
    c = load(tmp_path, monkeypatch, auth)
    assert c.JupyterHub.authenticator_class == authenticator
    assert c.Authenticator.allowed_users == {"ada", "s1", "s2", "grader-c1"}
    if auth == "lti13":
        assert c.LTI13Authenticator.issuer == LTI["issuer"] and c.LTI13Authenticator.username_key == "custom_uname"
    if auth == "dummy":
        assert c.DummyAuthenticator.password == "dummy_password-value"


def test_groups_roles_services(tmp_path, monkeypatch):
    c = load(tmp_path, monkeypatch, "pam")
    groups = c.JupyterHub.load_groups
    assert groups["nbgrader-c1"]["users"] == ["ada", "s1", "s2"] and "s1" not in groups["formgrade-c1"]["users"]
    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert roles["formgrade-c1"]["scopes"] == ["access:services!service=c1"]
    assert roles["nbgrader-c1"]["scopes"] == ["list:services", "read:services!service=c1"]
    services = {service["name"]: service for service in c.JupyterHub.services}
    assert services["c1"]["user"] == "grader-c1" and services["c1"]["api_token"] == "formgrader_token-value"
    assert "jupyterhub_idle_culler" in services["idle-culler"]["command"]
    assert c.JupyterHub.cookie_secret_file == str(tmp_path / "secrets" / "jupyterhub_cookie_secret")
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.hub_ip == "127.0.0.1"


def test_wrong_login_choice_says_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="auth must be pam, dummy or lti13"):
        load(tmp_path, monkeypatch, "ldap")
