"""docker-compose.yml cannot run here: check it against ingest.settings instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.kafka import DEAD_LETTER_TOPIC
from ingest.security.acls import ADMIN_USER, CONSUMER_USER, PatternType, consumer_acls
from ingest.security.scram import SCRAM_MECHANISM
from ingest.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
KAFKA_DEPLOY = REPO / "deploy/kafka"


def broker_properties() -> dict[str, str]:
    """deploy/kafka/server.properties: the compose broker's settings (start.sh adds logins)."""
    pairs = (
        line.split("=", 1)
        for line in (KAFKA_DEPLOY / "server.properties").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "NAME=value" form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports", [])}


def test_the_expected_services_are_there(compose: dict[str, Any]) -> None:
    assert {"kafka", "postgres", "migrate", "ingest", "prometheus"} <= set(services(compose))


def test_every_ingest_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    known = {f"INGEST_{name.upper()}" for name in Settings.model_fields}
    for name, service in services(compose).items():
        unknown = {k for k in environment(service) if k.startswith("INGEST_")} - known
        assert not unknown, f"service {name} sets unknown settings {unknown}"


def test_every_ingest_value_is_accepted_by_the_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in services(compose).values():
        env = {k: v for k, v in environment(service).items() if k.startswith("INGEST_")}
        if not env:
            continue
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        Settings()  # raises when a value does not validate


def test_service_and_migration_reach_kafka_and_postgres_of_the_file(
    compose: dict[str, Any],
) -> None:
    svc = services(compose)
    for name, variable in (
        ("ingest", "INGEST_DATABASE_URL"),
        ("migrate", "INGEST_MIGRATION_DATABASE_URL"),
    ):
        env = environment(svc[name])
        assert re.fullmatch(r"postgresql://[^@]+@postgres:5432/\w+", env[variable])
    bootstrap = environment(svc["ingest"])["INGEST_KAFKA_BOOTSTRAP"]
    assert f"://{bootstrap}" in broker_properties()["advertised.listeners"]
    assert svc["ingest"].get("build") == "." and svc["migrate"].get("build") == "."
    assert svc["migrate"]["entrypoint"] == ["ingest", "migrate"]


def test_metrics_port_is_the_settings_default(compose: dict[str, Any]) -> None:
    default = Settings.model_fields["metrics_port"].default
    assert default == 9108
    ingest = services(compose)["ingest"]
    assert default in container_ports(ingest)
    assert int(environment(ingest).get("INGEST_METRICS_PORT", default)) == default


def test_kafka_is_a_single_kraft_node_of_apache_kafka_4(compose: dict[str, Any]) -> None:
    kafka = services(compose)["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+(@sha256:[0-9a-f]{64})?", kafka["image"])
    props = broker_properties()
    assert set(props["process.roles"].split(",")) == {"broker", "controller"}
    assert props["controller.quorum.voters"].startswith(f"{props['node.id']}@")
    assert "zookeeper" not in " ".join(props).lower()
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"
    assert 9092 in container_ports(kafka)
    assert kafka["entrypoint"] == ["/bin/sh", "/triage/start.sh"]
    assert "./deploy/kafka:/triage:ro" in kafka["volumes"]


def kafka_topics_options(command: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``kafka-topics.sh`` arguments as options (``--name=value``) and ``--config`` settings."""
    options: dict[str, str] = {}
    configs: dict[str, str] = {}
    for argument in command:
        name, _, value = argument.removeprefix("--").partition("=")
        if name == "config":
            key, _, setting = value.partition("=")
            configs[key] = setting
        else:
            options[name] = value
    return options, configs


def test_the_dead_letter_topic_is_created_as_the_service_defines_it(
    compose: dict[str, Any],
) -> None:
    options, configs = kafka_topics_options(services(compose)["kafka-init"]["command"])
    assert "create" in options
    assert options["topic"] == Settings.model_fields["dlq_topic"].default
    assert int(options["partitions"]) == DEAD_LETTER_TOPIC.partitions
    assert configs == DEAD_LETTER_TOPIC.configs()


def test_postgres_database_matches_the_service_url(compose: dict[str, Any]) -> None:
    postgres = services(compose)["postgres"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?", postgres["image"])
    env = environment(postgres)
    url = environment(services(compose)["ingest"])["INGEST_DATABASE_URL"]
    assert url.endswith(f"@postgres:5432/{env['POSTGRES_DB']}")


SECRET = re.compile(r"\$\{([A-Z_]+):\?[^}]+\}")  # ${NAME:?message}: required, from .env
USER_INFO = re.compile(r"[a-z]+://([^:@/]+)(?::(\$\{[^}]*\}|[^@]*))?@")


def user_and_password(url: str) -> tuple[str | None, str | None]:
    """The user and password of a URL whose password may be a ${...} interpolation."""
    found = USER_INFO.match(url)
    return (found[1], found[2]) if found else (None, None)


@pytest.mark.security
def test_the_service_and_the_migration_use_their_own_least_roles(compose: dict[str, Any]) -> None:
    """Least privilege: everything ran as the superuser triage/triage."""
    svc = services(compose)
    service_user, _ = user_and_password(environment(svc["ingest"])["INGEST_DATABASE_URL"])
    owner_user, _ = user_and_password(environment(svc["migrate"])["INGEST_MIGRATION_DATABASE_URL"])
    assert (service_user, owner_user) == ("triage_service", "triage_owner")
    roles = (REPO / "deploy/postgres/10-roles.sh").read_text()
    assert "CREATE ROLE triage_service LOGIN NOSUPERUSER" in roles
    assert "CREATE ROLE triage_owner LOGIN NOSUPERUSER" in roles
    assert "GRANT triage_writer TO triage_service" in roles
    mounts = {v.split(":")[0]: v.split(":")[1] for v in svc["postgres"]["volumes"]}
    assert mounts["./deploy/postgres"] == "/docker-entrypoint-initdb.d"
    assert "scram-sha-256" in environment(svc["postgres"])["POSTGRES_INITDB_ARGS"]


@pytest.mark.security
def test_no_password_is_written_in_the_file(compose: dict[str, Any]) -> None:
    """No default credentials: triage/triage and an anonymous Grafana."""
    for name, service in services(compose).items():
        for key, value in environment(service).items():
            if "PASSWORD" in key:
                assert SECRET.fullmatch(value), f"{name}: {key} is not taken from .env"
            _, password = user_and_password(value)
            if password is not None:
                assert SECRET.fullmatch(password), f"{name}: {key} has a password"
    assert environment(services(compose)["grafana"])["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    generator = (REPO / "deploy/compose-env.sh").read_text()
    generated = re.search(r'SECRETS="([^"]*)"', generator)
    assert generated is not None and 'echo "$name=$(secret)"' in generator
    for secret in set(SECRET.findall(COMPOSE.read_text())):
        assert secret in generated[1].split(), secret


@pytest.mark.security
def test_every_published_port_is_bound_to_this_machine_only(compose: dict[str, Any]) -> None:
    """Nothing published beyond the host: Postgres, Kafka, metrics and Grafana were on all
    interfaces."""
    published = [
        (name, str(port)) for name, s in services(compose).items() for port in s.get("ports", [])
    ]
    assert published
    for name, port in published:
        assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    for name, service in services(compose).items():  # host networking would bypass ports:
        assert service.get("network_mode") is None, f"{name} uses network_mode"


def listener_protocols(props: dict[str, str]) -> dict[str, str]:
    """Each listener of ``listeners`` with its security protocol (the map's)."""
    mapping = dict(
        item.split(":", 1) for item in props["listener.security.protocol.map"].split(",")
    )
    names = [item.split("://", 1)[0] for item in props["listeners"].split(",")]
    return {name: mapping.get(name, name) for name in names}  # unmapped: the name is the protocol


@pytest.mark.security
def test_kafka_has_no_listener_without_sasl_scram_and_acls(compose: dict[str, Any]) -> None:
    """No anonymous Kafka: in compose it had no authentication (PLAINTEXT listeners)."""
    props = broker_properties()
    protocols = listener_protocols(props)
    assert protocols and all(p.startswith("SASL_") for p in protocols.values()), protocols
    controllers = set(props["controller.listener.names"].split(","))
    clients = {name for name in protocols if name not in controllers}
    assert clients, protocols
    assert props["sasl.enabled.mechanisms"] == SCRAM_MECHANISM
    for name in clients:  # suppliers and the service: SCRAM-SHA-512, as on the secure stack
        assert props[f"listener.name.{name.lower()}.sasl.enabled.mechanisms"] == SCRAM_MECHANISM
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"].split(";")[0] == f"User:{ADMIN_USER}"
    # the published port is a client listener's
    published = container_ports(services(compose)["kafka"])
    listening = {
        int(item.rsplit(":", 1)[1]): item.split("://", 1)[0]
        for item in props["listeners"].split(",")
    }
    assert published and all(listening[port] in clients for port in published)


@pytest.mark.security
def test_kafka_users_are_the_secure_stacks_with_generated_passwords(
    compose: dict[str, Any],
) -> None:
    svc = services(compose)
    env = environment(svc["ingest"])
    assert env["INGEST_SECURITY_PROTOCOL"].startswith("SASL_")
    assert env["INGEST_SASL_USERNAME"] == CONSUMER_USER
    assert SECRET.fullmatch(env["INGEST_SASL_PASSWORD"])
    assert env["INGEST_KAFKA_BOOTSTRAP"] == "kafka:19092"
    start = (KAFKA_DEPLOY / "start.sh").read_text()
    for user, variable in ((ADMIN_USER, "ADMIN"), (CONSUMER_USER, "CONSUMER")):
        scram = f'"{SCRAM_MECHANISM}=[name={user},password=$TRIAGE_KAFKA_{variable}_PASSWORD]"'
        assert scram in start, user
        assert f"TRIAGE_KAFKA_{variable}_PASSWORD" in environment(svc["kafka"])
    # passwords reach the storage tool through an argument file, never its command line
    assert '"@$args"' in start and "kafka-storage.sh" not in start


def acl_lines(script: str) -> set[tuple[str, str, str, str]]:
    """(resource type, name, pattern, operation) of each ``acl ...`` line of init.sh."""
    found = set()
    for line in script.splitlines():
        words = line.split()
        if not words or words[0] != "acl":
            continue
        options = dict(zip(words[1::2], words[2::2], strict=True))
        kind = "topic" if "--topic" in options else "group"
        found.add(
            (
                kind,
                options[f"--{kind}"],
                options["--resource-pattern-type"],
                options["--operation"].lower(),
            )
        )
    return found


@pytest.mark.security
def test_kafka_init_grants_the_service_exactly_its_acls(compose: dict[str, Any]) -> None:
    init = services(compose)["kafka-init"]
    assert init["entrypoint"] == ["/bin/sh", "/triage/init.sh"]
    script = (KAFKA_DEPLOY / "init.sh").read_text()
    assert "--allow-principal User:triage-ingest" in script
    defaults = Settings.model_fields
    wanted = {
        (
            acl.resource_type.name.lower(),
            acl.resource_name,
            "prefixed" if acl.pattern is PatternType.PREFIXED else "literal",
            acl.operation.name.lower(),
        )
        for acl in consumer_acls(
            CONSUMER_USER, defaults["consumer_group"].default, defaults["dlq_topic"].default
        )
    }
    assert acl_lines(script) == wanted


def test_prometheus_mounts_the_deploy_files_and_scrapes_the_service(
    compose: dict[str, Any],
) -> None:
    prometheus = services(compose)["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = {v.split(":")[0]: v.split(":")[1] for v in prometheus["volumes"]}
    assert mounts["./deploy/prometheus"] == "/etc/prometheus"
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = [
        t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]
    ]
    assert "ingest:9108" in targets
    rule_files = config.get("rule_files", [])
    assert any(Path(f).name == "alerts.yml" for f in rule_files)
    for rule_file in rule_files:  # relative paths resolve next to prometheus.yml
        assert (REPO / "deploy/prometheus" / Path(rule_file).name).exists()


def test_mounted_host_paths_exist(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


# --- hardening (security review): what a container may do and reach ------------------------

# Containers whose image writes only to its volumes and /tmp, so their root is read-only.
READ_ONLY = {"kafka-init", "migrate", "ingest", "prometheus"}
# Who talks to whom (or, for the two one-shot jobs, starts beside the service on the network
# of what they set up): every other pair shares no network.
TALKS_TO = {
    "kafka": {"kafka-init", "ingest"},
    "postgres": {"migrate", "ingest"},
    "ingest": {"kafka", "postgres", "prometheus", "kafka-init", "migrate"},
    "prometheus": {"ingest", "grafana"},
}


@pytest.mark.security
def test_the_migration_gets_neither_the_kafka_password_nor_the_service_url(
    compose: dict[str, Any],
) -> None:
    """Reproduction: the migrate container got the service's whole environment: the consumer's
    Kafka password and the service role's database URL, which a one-shot migration never
    needs. Now it gets the owner's database URL only."""
    env = environment(services(compose)["migrate"])
    assert not any(k.startswith(("INGEST_SASL", "INGEST_KAFKA")) for k in env)
    assert "TRIAGE_KAFKA_CONSUMER_PASSWORD" not in " ".join(env.values())
    assert "TRIAGE_SERVICE_PASSWORD" not in " ".join(env.values())
    assert "triage_service" not in " ".join(env.values())


@pytest.mark.security
def test_every_container_drops_capabilities_and_cannot_gain_privileges(
    compose: dict[str, Any],
) -> None:
    """Reproduction: no container dropped a capability, set no-new-privileges or ran with a
    read-only root. Now every one drops all capabilities (PostgreSQL's entry point adds back
    the five it needs to hand its data folder to its user), none can gain privileges, and the
    ones that write only to volumes run read-only."""
    for name, svc in services(compose).items():
        assert svc.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
        assert set(svc.get("cap_add", [])) <= {
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "SETGID",
            "SETUID",
        }
        assert not svc.get("privileged", False), name
        if name in READ_ONLY:
            assert svc.get("read_only") is True, name
    assert set(services(compose)["postgres"].get("cap_add", [])) != set()
    assert {n for n, s in services(compose).items() if s.get("cap_add")} == {"postgres"}


@pytest.mark.security
def test_pulled_images_are_pinned_by_digest_where_one_is_known(compose: dict[str, Any]) -> None:
    """Images by tag only can change under the same name; the ones with a digest known from
    public pins are fixed by it (PostgreSQL's moving tag is the exception, in the file's
    comment and docs/operations.md)."""
    for name, svc in services(compose).items():
        image = str(svc.get("image", ""))
        if svc.get("build") or name == "postgres":
            continue
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), f"{name}: {image}"


@pytest.mark.security
def test_kafka_and_postgres_are_reachable_only_from_the_containers_that_use_them(
    compose: dict[str, Any],
) -> None:
    """Reproduction: every container shared one network, so Prometheus, Grafana or PostgreSQL
    could reach Kafka's internal listener (and every other service). Now each container joins
    only the networks of the services it talks to."""
    svc = services(compose)
    networks = {name: set(s.get("networks", [])) for name, s in svc.items()}
    assert all(networks.values()), networks  # none on the default network
    assert "network_mode" not in " ".join(str(s) for s in svc.values())
    for a in svc:
        for b in svc:
            if a == b:
                continue
            allowed = b in TALKS_TO.get(a, set()) or a in TALKS_TO.get(b, set())
            if networks[a] & networks[b]:
                assert allowed, f"{a} and {b} share {networks[a] & networks[b]}"
    assert not networks["kafka"] & (networks["grafana"] | networks["prometheus"])
    assert not networks["postgres"] & (networks["grafana"] | networks["prometheus"])
