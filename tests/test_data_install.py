"""Debian contrib/non-free are enabled by editing deb822 sources, once and only where missing."""

from speaksphere.data.install import enable_contrib_non_free, missing_debian, missing_pip

SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main contrib
"""


def test_components_are_widened_once(tmp_path):
    path = tmp_path / "debian.sources"
    path.write_text(SOURCES)
    assert enable_contrib_non_free(path)
    text = path.read_text()
    assert text.count("Components: main contrib non-free") == 2
    assert not enable_contrib_non_free(path)  # already there: no change
    assert not enable_contrib_non_free(tmp_path / "absent.sources")


def test_missing_packages_are_reported():
    assert missing_debian(["speaksphere-no-such-package"]) == ["speaksphere-no-such-package"]


def test_missing_pip_requirements_are_reported():
    import importlib.metadata

    pytest_version = importlib.metadata.version("pytest")
    assert missing_pip([f"pytest=={pytest_version}", "pytest"]) == []
    assert missing_pip(["pytest==0.0.1"]) == ["pytest==0.0.1"]
    assert missing_pip(["speaksphere-no-such-package==1.0"]) == ["speaksphere-no-such-package==1.0"]
