"""Whether a pydantic plugin may be installed, told from the folders of sys.path alone
(``reconciler.pydantic_plugins``): a package's metadata declaring the ``[pydantic]``
entry-point group; unsure (so: ask pydantic's own loader) for a zip on the path."""

from __future__ import annotations

from pathlib import Path

from reconciler.pydantic_plugins import may_have_plugins


def _package(folder: Path, name: str, entry_points: str | None, suffix: str = ".dist-info") -> None:
    metadata = folder / f"{name}-1.0{suffix}"
    metadata.mkdir(parents=True)
    if entry_points is not None:
        (metadata / "entry_points.txt").write_text(entry_points)


def test_no_metadata_declares_the_group(tmp_path: Path) -> None:
    _package(tmp_path, "tool", "[console_scripts]\ntool = tool:main\n")
    _package(tmp_path, "plain", None)

    assert may_have_plugins([str(tmp_path), str(tmp_path / "missing")], finders=()) is False


def test_a_package_declares_a_pydantic_plugin(tmp_path: Path) -> None:
    _package(tmp_path / "a", "tool", "[console_scripts]\ntool = tool:main\n")
    _package(tmp_path / "b", "logfire", "[pydantic]\nlogfire = logfire:plugin\n")

    assert may_have_plugins([str(tmp_path / "a"), str(tmp_path / "b")], finders=()) is True


def test_an_egg_info_counts_too(tmp_path: Path) -> None:
    _package(tmp_path, "old", " [pydantic] \nold = old:plugin\n", suffix=".egg-info")

    assert may_have_plugins([str(tmp_path)], finders=()) is True


def test_a_zip_on_the_path_is_unsure(tmp_path: Path) -> None:
    archive = tmp_path / "packages.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))

    assert may_have_plugins([str(archive)], finders=()) is True


class _MetadataFinder:
    """A finder of its own that serves package metadata (as some installers add)."""

    def find_spec(self, *args: object) -> None:
        return None

    def find_distributions(self, *args: object) -> list[object]:
        return []


def test_a_finder_that_serves_metadata_is_unsure(tmp_path: Path) -> None:
    assert may_have_plugins([str(tmp_path)], finders=[_MetadataFinder()]) is True
