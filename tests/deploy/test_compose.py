"""docker-compose.yml, Dockerfile and .env.example checked statically (no container engine here).

Every command, healthcheck and entrypoint they name exists in the CLI (``--help`` runs, every option
is accepted, the arguments parse), every environment variable they set is read by the configuration
loader, every named volume is declared, published ports do not collide, the dependency graph has no
cycle, and every country a service starts is in the trust list its certs service signs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import click
import pytest

from gateway.cli import ENV_CONFIG_DIR, ENV_COUNTRY
from gateway.config import ENV_OVERRIDES, load_config
from tests.deploy.static import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    compose,
    depends_on,
    dockerfile,
    dockerfile_env,
    env_file,
    environment,
    exec_form,
    resolve,
    resolve_cli,
    variables,
)

#: What the configuration loader reads: the overrides plus the two variables of the command line.
LOADER_VARIABLES = set(ENV_OVERRIDES) | {ENV_COUNTRY, ENV_CONFIG_DIR}
#: Non-gateway variables an image may set (runtime of Python and pip, not the gateway's settings).
RUNTIME_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_DISABLE_PIP_VERSION_CHECK",
                     "PIP_NO_CACHE_DIR", "PIP_CERT"}
ALLOWED_CONDITIONS = {"service_completed_successfully", "service_healthy"}
PROFILES = [(), ("it",), ("ha",)]
#: Images of the profile "ha" that are not the gateway: PostgreSQL and HAProxy (Debian's packages, own Dockerfiles).
OTHER_IMAGES = {"ncpeh-postgres": "deploy/postgres/Dockerfile", "ncpeh-haproxy": "deploy/haproxy/Dockerfile"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return compose()


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict]:
    """The compose file with every variable at its default (no .env)."""
    return resolve(compose(), {})


@pytest.fixture(scope="module")
def image_env() -> dict[str, str]:
    return dockerfile_env(dockerfile())


def services(spec: dict, profiles: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Services enabled with these profiles (None: all of them)."""
    return {name: svc for name, svc in spec["services"].items()
            if profiles is None or not svc.get("profiles") or set(svc["profiles"]) & set(profiles)}


def is_gateway(svc: dict) -> bool:
    """Whether the service runs the gateway's image (not PostgreSQL's or HAProxy's, profile ha)."""
    return str(svc.get("image", "")).startswith("ncpeh-gateway:")


def replicas(spec: dict) -> dict[str, str]:
    """Profile ha: replica service -> the name its country is reached by (its balancer's network alias)."""
    aliases = {}
    for svc in spec["services"].values():
        if not is_gateway(svc):
            for network in (svc.get("networks") or {}).values() if isinstance(svc.get("networks"), dict) else []:
                for alias in (network or {}).get("aliases", []):
                    aliases[alias] = svc
    found = {}
    for name, svc in spec["services"].items():
        if is_gateway(svc) and "ha" in (svc.get("profiles") or []):
            code = environment(svc)[ENV_COUNTRY].lower()
            assert code in aliases, f"{name}: no balancer answers to {code}"
            found[name] = code
    return found


def balancers(spec: dict) -> list[str]:
    return [name for name, svc in spec["services"].items() if str(svc.get("image", "")).startswith("ncpeh-haproxy:")]


def country_services(spec: dict, profiles: tuple[str, ...] | None = None) -> dict[str, str]:
    """service name -> country code, for the services that run a country."""
    return {name: environment(svc)[ENV_COUNTRY] for name, svc in services(spec, profiles).items()
            if ENV_COUNTRY in environment(svc)}


def commands(spec: dict) -> list[tuple[str, str, list[str]]]:
    """(where, kind, argv) of every command the compose file and the Dockerfile run."""
    found = []
    for name, svc in spec["services"].items():
        if not is_gateway(svc):
            continue  # PostgreSQL's and HAProxy's images: see test_other_images_are_built_here_and_healthchecked
        for kind in ("command", "entrypoint"):
            if kind in svc:
                value = svc[kind]
                assert isinstance(value, list), f"{name}.{kind}: use the exec form (a list), so signals reach ncpeh"
                found.append((f"compose {name}", kind, value))
        check = svc.get("healthcheck") or {}
        if not check.get("disable"):
            test = check.get("test")
            assert isinstance(test, list) and test[0] == "CMD", f"{name}.healthcheck.test: use [\"CMD\", ...]"
            found.append((f"compose {name}", "healthcheck", test[1:]))
    for ins in dockerfile():
        if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            args = ins.args
            if ins.keyword == "HEALTHCHECK":
                assert " CMD " in f" {args} ", f"HEALTHCHECK {args!r}"
                args = args[args.index("CMD") + 3:]
            argv = exec_form(args)
            assert argv is not None, f"Dockerfile {ins.keyword} {ins.args!r}: use the exec form"
            found.append(("Dockerfile", ins.keyword.lower(), argv))
    return found


# --- commands ------------------------------------------------------------------------------------


def test_every_command_healthcheck_and_entrypoint_exists_in_the_cli(defaults, image_env):
    found = commands(defaults)
    kinds = {kind for _, kind, _ in found}
    assert {"command", "healthcheck", "cmd"} <= kinds
    for where, kind, argv in found:
        path, command, rest = resolve_cli(argv)
        result = subprocess.run([sys.executable, "-m", "gateway.cli", *path, "--help"], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, f"{where} {kind}: 'ncpeh {' '.join(path)} --help' failed: {result.stderr}"
        documented = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.stdout))
        for token in rest:
            if token.startswith("--"):
                assert token.split("=")[0] in documented, f"{where} {kind}: option {token} unknown to ncpeh {path}"


@pytest.mark.parametrize("profiles", PROFILES)
def test_every_command_parses_with_the_service_environment(spec, image_env, profiles, monkeypatch):
    """The arguments are valid (choices, numbers, required options given or found in the environment)."""
    for name, svc in services(resolve(spec, {}), profiles).items():
        if not is_gateway(svc):
            continue
        env = {**image_env, **environment(svc)}
        argvs = [svc["command"]] if "command" in svc else []
        check = svc.get("healthcheck") or {}
        if not check.get("disable"):
            argvs.append(check["test"][1:])
        for argv in argvs:
            path, command, rest = resolve_cli(argv)
            for var in [v for v in os.environ if v.startswith("NCPEH_")]:
                monkeypatch.delenv(var)
            for var, value in env.items():
                if var.startswith("NCPEH_"):
                    monkeypatch.setenv(var, value)
            try:
                command.make_context(" ".join(["ncpeh", *path]), list(rest))
            except click.ClickException as exc:
                pytest.fail(f"compose {name}: {' '.join(argv)}: {exc.format_message()}")


def test_the_image_runs_both_listeners_and_checks_both(image_env):
    instructions = {ins.keyword: ins for ins in dockerfile()}
    assert exec_form(instructions["CMD"].args) == ["ncpeh", "serve", "--listener", "both"]
    health = instructions["HEALTHCHECK"].args
    assert exec_form(health[health.index("CMD") + 3:]) == ["ncpeh", "healthcheck", "--listener", "both"]


# --- environment ---------------------------------------------------------------------------------


def test_every_environment_variable_is_read_by_the_configuration_loader(spec, image_env):
    for name, svc in spec["services"].items():
        if not is_gateway(svc):
            continue
        for var in environment(svc):
            assert var in LOADER_VARIABLES, f"compose {name}: {var} is not read by the configuration loader"
    for var in image_env:
        assert var in LOADER_VARIABLES | RUNTIME_VARIABLES, f"Dockerfile ENV {var} is not read by anything"


def test_env_example_documents_every_variable_with_its_default():
    used = variables(COMPOSE_FILE.read_text(encoding="utf-8"))
    example = env_file(ENV_EXAMPLE)
    example_text = ENV_EXAMPLE.read_text(encoding="utf-8")
    for var, default in used.items():
        assert var in example, f".env.example does not document {var}"
        assert default is not None, f"docker-compose.yml: ${{{var}}} has no safe default (use ${{{var}:-...}})"
        assert example[var] == default, f".env.example: {var}={example[var]!r}, compose default {default!r}"
    for var in example:
        assert var in used, f".env.example documents {var}, which docker-compose.yml does not use"
    assert "COMPOSE_PROFILES=it" in example_text  # how to enable the third country from .env


def test_country_services_load_their_configuration(spec, image_env):
    """The configuration each country container will load (image ENV + service environment + its file)."""
    config_dir = ROOT / "deploy" / "countries"
    assert image_env["NCPEH_CONFIG_DIR"] == "/etc/ncpeh/countries"
    copies = [ins.args.split() for ins in dockerfile() if ins.keyword == "COPY" and "--from" not in ins.args]
    assert ["deploy/countries", "/etc/ncpeh/countries"] in copies
    languages = {}
    balanced = replicas(spec)
    for name, code in country_services(spec).items():
        svc = resolve(spec["services"][name], {})
        env = {k: v for k, v in {**image_env, **environment(svc)}.items() if k in ENV_OVERRIDES}
        cfg = load_config(config_dir / f"{code.lower()}.toml", env=env)
        assert cfg.code == code
        reached_as = balanced.get(name, name)  # a replica: by its balancer, which answers to the country's name
        assert cfg.public.url == f"https://{reached_as}:{cfg.public.port}", "peers reach a country by its service name"
        assert cfg.ncp.url == f"https://{reached_as}:{cfg.ncp.port}"
        assert {cfg.public.host, cfg.ncp.host} == {"0.0.0.0"}
        if name in balanced:
            assert "ports" not in svc, f"{name}: a replica publishes nothing, its balancer does"
            assert environment(svc)["NCPEH_DATABASE_URL"].startswith("postgresql://"), f"{name}: on PostgreSQL"
        else:
            container_ports = sorted(int(p.rsplit(":", 1)[1]) for p in svc["ports"])
            assert container_ports == sorted([cfg.public.port, cfg.ncp.port]), f"{name}: published ports vs {code} file"
        assert str(cfg.data_dir) == image_env["NCPEH_DATA_DIR"]
        languages[code] = cfg.default_language
    assert len(set(languages.values())) == len(languages), "each country has its own language"


def test_container_country_files_match_the_packaged_ones():
    """deploy/countries/ only changes where a country listens (host, port, URL)."""
    for path in sorted((ROOT / "deploy" / "countries").glob("*.toml")):
        deployed = load_config(path, env={})
        if not (ROOT / "gateway" / "countries" / path.name).exists():
            continue  # a country added for containers only
        packaged = load_config(ROOT / "gateway" / "countries" / path.name, env={})
        for field in ("code", "name", "languages", "default_language", "identifier"):
            assert getattr(deployed, field) == getattr(packaged, field), f"{path.name}: {field}"


# --- volumes, ports, dependencies ----------------------------------------------------------------


def test_every_named_volume_is_declared_and_owned_by_the_service_user(spec, image_env):
    declared = set(spec.get("volumes") or {})
    used = set()
    created = " ".join(ins.args for ins in dockerfile() if ins.keyword == "RUN" and "install -d -o ncpeh" in ins.args)
    for name, svc in spec["services"].items():
        for volume in svc.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/", "~")):
                continue
            assert source in declared, f"compose {name}: volume {source} is not declared under volumes:"
            used.add(source)
            if not is_gateway(svc):
                continue  # PostgreSQL's volume: see test_other_images_are_built_here_and_healthchecked
            # a new named volume takes the image folder's owner: the folder must exist, owned by ncpeh
            assert target in created.split(), f"compose {name}: {target} is not created for the ncpeh user"
            assert target in (image_env["NCPEH_DATA_DIR"], f"{image_env['NCPEH_HOME']}/certs"), target
    assert used == declared, f"declared but unused volumes: {declared - used}"
    balanced = replicas(spec)
    for name in country_services(spec):
        mounts = spec["services"][name]["volumes"]
        assert "pki:/srv/ncpeh/certs:ro" in mounts, f"{name}: the PKI is read-only in a country container"
        data = [m for m in mounts if m.endswith(":/srv/ncpeh/data")]
        # a replica shares its country's (session secret, TOTP key, demo client, checkpoints); others their own
        own = f"{balanced[name]}-ha-data:" if name in balanced else f"{name}-data:"
        assert len(data) == 1 and data[0].startswith(own), f"{name}: data volume {own}"


@pytest.mark.parametrize("env_source", ["defaults", ".env.example"])
def test_published_ports_do_not_collide(spec, env_source):
    env = {} if env_source == "defaults" else env_file(ENV_EXAMPLE)
    resolved = resolve(spec, env)
    seen: dict[int, str] = {}
    for name, svc in resolved["services"].items():  # every profile at once
        inside = set()
        for mapping in svc.get("ports") or []:
            host, container = (int(part) for part in mapping.split(":")[-2:])
            assert host not in seen, f"host port {host} published by {seen.get(host)} and {name}"
            assert container not in inside, f"{name}: container port {container} published twice"
            seen[host] = name
            inside.add(container)
    publishing = [n for n in country_services(spec) if n not in replicas(spec)] + balancers(spec)
    assert len(seen) == 2 * len(publishing)


def test_dependencies_use_conditions_and_have_no_cycle(spec):
    all_services = spec["services"]
    graph = {}
    for name, svc in all_services.items():
        deps = depends_on(svc)
        for target, options in deps.items():
            assert target in all_services, f"{name} depends on unknown service {target}"
            condition = (options or {}).get("condition")
            assert condition in ALLOWED_CONDITIONS, f"{name} -> {target}: condition {condition!r}"
            if condition == "service_healthy":
                assert not (all_services[target].get("healthcheck") or {}).get("disable"), target
            else:
                assert all_services[target].get("restart") == "no", f"{target} must be one-shot"
            needs = set(all_services[target].get("profiles") or [])
            mine = set(svc.get("profiles") or [])
            assert not needs or needs & mine, f"{name} (profiles {mine or 'none'}) needs {target} of profile {needs}"
        graph[name] = set(deps)
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"dependency cycle: {' -> '.join([*trail, node])}"
        state[node] = "open"
        for nxt in sorted(graph[node]):
            visit(nxt, [*trail, node])
        state[node] = "done"

    for name in graph:
        visit(name, [])


def test_country_services_are_long_running_and_healthchecked(spec):
    for name in country_services(spec):
        svc = spec["services"][name]
        assert svc.get("restart") == "unless-stopped"
        assert svc["healthcheck"]["test"][:3] == ["CMD", "ncpeh", "healthcheck"]
        assert any(spec["services"][s].get("restart") == "no" for s in upstream(spec, name)), \
            f"{name}: starts after the one-shot certs service"


# --- trust list coverage -------------------------------------------------------------------------


def certs_countries(svc: dict) -> set[str] | None:
    command = svc.get("command") or []
    if command[:2] != ["ncpeh", "init-certs"]:
        return None
    assert "--trust-list" in command, "the certs service also signs the trust list"
    return set(command[command.index("--countries") + 1].split(","))


def upstream(spec: dict, name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for dep in depends_on(spec["services"][todo.pop()]):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


@pytest.mark.parametrize("profiles", PROFILES)
def test_trust_list_names_every_started_country(spec, profiles):
    """With the profile, the third country is in the trust list; the last certs service to run lists
    every started country, and every country starts after a certs service that lists it."""
    resolved = resolve(spec, {})
    started = country_services(resolved, profiles)
    signers = {name: certs_countries(svc) for name, svc in services(resolved, profiles).items()
               if certs_countries(svc) is not None}
    assert signers, "a one-shot certs service"
    listed: set[str] = set().union(*signers.values())
    assert listed == set(started.values()), f"profiles {profiles}: trust list {listed} vs started {started}"
    for name, code in started.items():
        before = [s for s in upstream(resolved, name) if s in signers]
        assert any(code in signers[s] for s in before), f"{name} may start before {code} is in the trust list"
    assert ("IT" in listed) == ("it" in profiles)
    assert any("${COUNTRIES:-" in arg for arg in spec["services"]["certs"]["command"]), "COUNTRIES from .env"


def test_third_country_has_its_own_language_and_identifier(spec):
    it = spec["services"]["it"]
    assert it["profiles"] == ["it"]
    cfg = load_config(ROOT / "deploy" / "countries" / "it.toml", env={})
    assert cfg.languages[0] == "it" and cfg.identifier.scheme == "codice-fiscale"


def test_dockerfile_is_multi_stage_slim_non_root_with_compiled_catalogs():
    instructions = dockerfile()
    froms = [ins for ins in instructions if ins.keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    # one base image for both stages, a build argument (a local image where no registry answers)
    args = dict(ins.args.split("=", 1) for ins in instructions if ins.keyword == "ARG" and ins.stage == -1)
    assert args.get("PYTHON_IMAGE", "").endswith("-slim"), args
    assert all(ins.args.split()[0] == "${PYTHON_IMAGE}" for ins in froms)
    last = froms[-1].stage
    users = [ins.args for ins in instructions if ins.keyword == "USER" and ins.stage == last]
    assert users and users[-1] not in ("root", "0"), "the final stage runs as a non-root user"
    assert any(ins.keyword == "COPY" and "--from=build" in ins.args and ins.stage == last for ins in instructions)
    runs = " ".join(ins.args for ins in instructions if ins.keyword == "RUN")
    assert "pybabel compile" in runs, "message catalogs are compiled at build time"
    for ins in instructions:  # everything copied from the context exists and is not excluded
        if ins.keyword == "COPY" and "--from" not in ins.args:
            for source in ins.args.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: missing"
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for needed in ("gateway", "terminology", "deploy", "pyproject.toml", "README.md", "requirements"):
        assert needed not in ignored
    assert {".venv", "var", "certs", ".env"} <= set(ignored), "no local state or secrets in the build context"


def test_dockerfile_installs_exactly_the_runtime_lock():
    """Hash-checked pins only: no unpinned `pip install --upgrade ...`, the project without resolving anything."""
    runs = [ins.args for ins in dockerfile() if ins.keyword == "RUN" and "pip install" in ins.args]
    assert any("--require-hashes --no-deps -r requirements/runtime.txt" in run for run in runs), runs
    assert any("pip install --no-deps --no-build-isolation ." in run for run in runs), runs
    for run in runs:
        for command in run.split("&&"):
            if "pip install" in command:
                assert "--upgrade" not in command and ("--require-hashes" in command or "--no-deps" in command), command
    assert not (ROOT / "Dockerfile").read_text().startswith("# syntax="), "no frontend image fetched from a registry"


def test_service_user_has_a_fixed_uid_and_gid():
    instructions = dockerfile()
    last = max(ins.stage for ins in instructions)
    args = dict(ins.args.split("=", 1) for ins in instructions if ins.keyword == "ARG" and ins.stage == last)
    assert args.get("NCPEH_UID", "").isdigit() and args.get("NCPEH_GID", "").isdigit(), args
    runs = " ".join(ins.args for ins in instructions if ins.keyword == "RUN" and ins.stage == last)
    assert '--gid "${NCPEH_GID}" ncpeh' in runs and '--uid "${NCPEH_UID}" --gid "${NCPEH_GID}"' in runs, runs


def test_other_images_are_built_here_and_healthchecked(spec):
    """Profile ha: PostgreSQL and HAProxy from Debian's packages on the project's base image (no registry),
    long-running, healthchecked; PostgreSQL's volume folder is created for its user."""
    others = {name: svc for name, svc in spec["services"].items() if not is_gateway(svc) and "image" in svc}
    assert {str(svc["image"]).split(":")[0] for svc in others.values()} == set(OTHER_IMAGES)
    for name, svc in others.items():
        dockerfile_path = OTHER_IMAGES[str(svc["image"]).split(":")[0]]
        assert svc["build"]["dockerfile"] == dockerfile_path and svc["profiles"] == ["ha"], name
        text = (ROOT / dockerfile_path).read_text(encoding="utf-8")
        assert "ARG PYTHON_IMAGE" in text and "FROM ${PYTHON_IMAGE}" in text, f"{dockerfile_path}: the project's base"
        assert "apt-get install" in text, f"{dockerfile_path}: Debian's package"
        assert svc.get("restart") == "unless-stopped" and svc["healthcheck"]["test"][0] == "CMD", name
    postgres = spec["services"]["postgres"]
    assert postgres["volumes"] == ["pg-data:/var/lib/ncpeh-postgres"]
    assert "install -d -o postgres -g postgres -m 0700 /var/lib/ncpeh-postgres" in (
        ROOT / "deploy" / "postgres" / "Dockerfile").read_text(encoding="utf-8")
    for name in balancers(spec):
        env = environment(spec["services"][name])
        assert {env["REPLICA_1"], env["REPLICA_2"]} <= set(replicas(spec)), f"{name}: balances the replicas"


def test_no_new_privileges_uses_the_current_syntax(spec):
    for name, svc in spec["services"].items():
        assert "no-new-privileges=true" in svc.get("security_opt", []), f"{name}: security_opt"
        assert not [opt for opt in svc.get("security_opt", []) if opt.startswith("no-new-privileges:")], name


def test_readme_tester_section_covers_compose_and_adding_a_country():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Testers" in readme
    section = readme.split("## Testers", 1)[1]
    for needle in ("docker compose", "--profile it", ".env", "COUNTRIES", "volume", "ncpeh demo --countries",
                   "Adding a country", "trust-list build", "NCPEH_CONFIG_DIR", "--profile it down -v", "make compose-test",
                   "deploy/build-ca", "PYTHON_IMAGE"):
        assert needle in section, needle
