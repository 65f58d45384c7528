import os
import stat

import pytest

from sweep.errors import ConfigError, EnvironmentProblem
from sweep.spark import check_master, find_java, java_version_of


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21.0.2" 2024-01-16', 21),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "11.0.22" 2024-01-16', 11),
        ('openjdk version "25" 2025-09-16', 25),
        ("no version here", None),
    ],
)
def test_java_version_of(output, major):
    assert java_version_of(output) == major


def fake_java_home(tmp_path, version_line):
    """A JAVA_HOME whose bin/java prints the given `java -version` line, as a real JDK does."""
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


def test_the_java_on_this_machine_is_supported():
    java, version = find_java()
    assert version in (17, 21) and os.path.exists(java)


def test_no_java_anywhere_says_how_to_install(tmp_path):
    with pytest.raises(EnvironmentProblem, match=r"no Java runtime found.*apt-get install openjdk"):
        find_java({"PATH": str(tmp_path)})


def test_wrong_java_version_is_refused_with_install_hint(tmp_path):
    home = fake_java_home(tmp_path, 'openjdk version "11.0.22" 2024-01-16')
    with pytest.raises(EnvironmentProblem, match=r"JAVA_HOME=.*Java 11.*17 or 21.*brew install"):
        find_java({"JAVA_HOME": str(home), "PATH": ""})


def test_java_home_pointing_nowhere(tmp_path):
    with pytest.raises(EnvironmentProblem, match=r"JAVA_HOME=.*does not exist"):
        find_java({"JAVA_HOME": str(tmp_path / "nope")})


def test_supported_java_home_is_used(tmp_path):
    home = fake_java_home(tmp_path, 'openjdk version "21.0.2" 2024-01-16')
    assert find_java({"JAVA_HOME": str(home)}) == (str(home / "bin" / "java"), 21)


@pytest.mark.parametrize(
    "master",
    [
        "local",
        "local[*]",
        "local[2]",
        "local[4,2]",
        "spark://10.0.0.1:7077",
        "yarn",
        "k8s://https://k:6443",
    ],
)
def test_valid_masters(master):
    check_master(master)


@pytest.mark.parametrize("master", ["lokal[2]", "local[x]", "", "spark:/host", "http://x:7077"])
def test_invalid_masters_name_the_key(master):
    with pytest.raises(ConfigError, match=r"spark.master: .* is not a Spark master URL"):
        check_master(master)
