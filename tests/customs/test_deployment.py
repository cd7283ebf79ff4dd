"""The deployment files agree with the code: docker-compose.yml, .env.example and the ``make run``
launcher's pure helpers (customs/devstack.py). No database needed."""

import re
import socket
import stat
from pathlib import Path

import environ
import pytest
import yaml

from customs import devstack

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS = BASE_DIR / "customs" / "settings.py"
# env.str("X", ...), env.bool("X"), env.db("X"), env("X")...: every variable the settings read.
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def _command(service) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_names_the_five_services(compose):
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])


def test_compose_runs_gunicorn_and_celery(compose):
    services = compose["services"]
    assert "gunicorn customs.wsgi" in _command(services["web"])
    assert re.search(r"\bcelery -A customs worker\b", _command(services["worker"]))
    assert re.search(r"\bcelery -A customs beat\b", _command(services["beat"]))


def test_compose_application_services_build_the_image_and_read_the_environment(compose):
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        assert service["build"] == "."
        assert service["env_file"] == ".env"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379/")


def test_compose_has_healthchecks_and_volumes(compose):
    services = compose["services"]
    for name in ("web", "worker", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"])
    assert any(volume.endswith(":/app/var/media") for volume in services["web"]["volumes"])
    assert {"postgres-data", "media"} <= set(compose["volumes"])


def test_web_healthcheck_is_valid_python(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "healthcheck", "exec")


def test_dockerfile_runs_as_non_root():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "pip install -r requirements.lock" in dockerfile
    assert "collectstatic" in dockerfile


def test_settings_read_variables_are_found():
    """The pattern used below does find the settings' variables (so the next test is not vacuous)."""
    names = set(ENV_READ.findall(SETTINGS.read_text()))
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS"} <= names


def test_every_setting_read_from_the_environment_is_in_env_example():
    names = set(ENV_READ.findall(SETTINGS.read_text()))
    example = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert names - documented == set()


def test_env_example_leaves_the_services_empty_for_make_run():
    """Copying .env.example to .env must not point ``make run`` at servers that do not exist."""
    values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (BASE_DIR / ".env.example").read_text(), re.M))
    assert values["DATABASE_URL"] == "" and values["REDIS_URL"] == "" and values["DJANGO_SECRET_KEY"] == ""


# customs/devstack.py ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("socket_dir", "port"),
    [("/var/run/pg", 5432), ("/work/main/var/postgres", 5432), ("/home/a user/kerwen+x/var/postgres", 5433)],
)
def test_postgres_socket_url_is_read_by_django_environ(socket_dir, port):
    url = devstack.postgres_socket_url(socket_dir, "kerwen", port=port)
    config = environ.Env.db_url_config(url)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["HOST"] == socket_dir
    assert config["NAME"] == "kerwen"
    assert config["USER"] == "postgres"
    assert config["PORT"] == ("" if port == 5432 else port)


def test_postgres_socket_url_is_percent_encoded():
    assert (
        devstack.postgres_socket_url("/var/run/pg", "kerwen")
        == "postgres://postgres@/%2Fvar%2Frun%2Fpg/kerwen"
    )


def test_redis_url():
    assert devstack.redis_url(6390) == "redis://127.0.0.1:6390/0"
    assert environ.Env.db_url_config  # the URL goes to Celery as it is
    assert devstack.redis_url(6390, db=2).endswith(":6390/2")


def test_free_port_can_be_bound():
    port = devstack.free_port()
    assert 1024 <= port <= 65535
    assert devstack.port_is_free(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert not devstack.port_is_free(port)


def test_secret_key_is_made_once_and_private(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = devstack.secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert devstack.secret_key(path) == first


def test_static_fingerprint_changes_with_a_static_file(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "portal" / "static").mkdir(parents=True)
    css = tmp_path / "portal" / "static" / "portal.css"
    css.write_text("body {}")
    before = devstack.static_fingerprint(tmp_path)
    assert devstack.static_fingerprint(tmp_path) == before
    css.write_text("body { margin: 0 }")
    assert devstack.static_fingerprint(tmp_path) != before


def test_launcher_refuses_bad_command_lines(capsys):
    assert devstack.main(["exec"]) == 1
    assert devstack.main(["run", "--", "extra"]) == 1
    assert "error:" in capsys.readouterr().out


def test_launcher_programs_are_the_system():
    programs = devstack.programs(8765)
    assert set(programs) == {"web", "worker", "beat"}
    web = " ".join(programs["web"])
    assert "gunicorn customs.wsgi --workers 2 --bind 127.0.0.1:8765" in web
    assert "celery -A customs worker -l info --concurrency 2" in " ".join(programs["worker"])
    beat = " ".join(programs["beat"])
    assert "celery -A customs beat" in beat and str(devstack.VAR_DIR) in beat
