"""The Java runtime and the Kafka jars (fetched with ``mvn`` from ``pom.xml``, cached until
the pom changes)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path

from ingest.devstack.paths import Report, StackPaths
from ingest.devstack.processes import run_logged, tail
from ingest.errors import StackError

POM = Path(__file__).resolve().parent / "pom.xml"
MVN_TIMEOUT_S = 900.0


async def find_java() -> str:
    """The java executable ($JAVA_HOME/bin/java, else PATH), checked to be 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    java = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if java is None:
        raise StackError(
            "java not found on PATH: the Kafka broker needs a Java 17+ runtime; install one "
            "(e.g. apt-get install openjdk-17-jre-headless) or put its bin/ on PATH"
        )
    proc = await asyncio.create_subprocess_exec(
        java, "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.decode(errors="replace"))
    major = int(match[1]) if match else 0
    if match and major == 1 and match[2]:
        major = int(match[2])
    if major < 17:
        raise StackError(
            f"{java} is not Java 17 or newer (it says {out.decode().splitlines()[:1]}); "
            "Kafka 4 needs Java 17+: install it or set JAVA_HOME to one"
        )
    return java


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _libs_current(paths: StackPaths) -> bool:
    marker = paths.kafka_libs / ".pom.sha256"
    try:
        return marker.read_text().strip() == _pom_digest() and any(
            paths.kafka_libs.glob("kafka_2.13-*.jar")
        )
    except OSError:
        return False


async def ensure_kafka_libs(paths: StackPaths, report: Report) -> None:
    """Copy the pom's jars into kafka/libs with mvn unless they match the pom already."""
    if not POM.exists():
        raise StackError(f"{POM} is missing: reinstall the package with its [stack] extra")
    if await asyncio.to_thread(_libs_current, paths):
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "mvn not found on PATH: it fetches the Kafka jars from Maven Central; install "
            "Apache Maven (e.g. apt-get install maven) and run again"
        )
    report(f"kafka: fetching jars with mvn from {POM} (log: {paths.mvn_log})")
    staging = paths.kafka / "libs.partial"
    await asyncio.to_thread(shutil.rmtree, staging, True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    code = await run_logged(cmd, paths.mvn_log, MVN_TIMEOUT_S)
    if code != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        cause = mvn_error(paths.mvn_log) or f"exit code {code}"
        raise StackError(
            f"mvn could not fetch the Kafka jars ({cause}); check network access to Maven "
            f"Central (proxy settings in ~/.m2/settings.xml) and see {paths.mvn_log}"
        )
    await asyncio.to_thread(_install_libs, paths, staging)


def mvn_error(log_file: Path) -> str | None:
    """The first [ERROR] line that says what went wrong (not Maven's boilerplate)."""
    boilerplate = re.compile(
        r"^\s*(re-run|to see the full|for more information|\[help \d+\]|$)", re.IGNORECASE
    )
    for line in tail(log_file):
        text = re.sub(r"\x1b\[[0-9;]*m|\[\d+m", "", line)
        _, found, message = text.partition("[ERROR]")
        if found and not boilerplate.search(message):
            return message.replace("-> [Help 1]", "").strip()[:300]
    return None


def _install_libs(paths: StackPaths, staging: Path) -> None:
    (staging / ".pom.sha256").write_text(_pom_digest() + "\n")
    shutil.rmtree(paths.kafka_libs, ignore_errors=True)
    staging.rename(paths.kafka_libs)
