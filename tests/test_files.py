"""pipeline.files: atomic writes, and marts folders that git ignores whole."""

import subprocess

import pytest

from pipeline.files import GITIGNORE, output_folder, remove_stale_tmp, write_atomic, write_if_changed


def test_write_if_changed_writes_only_new_bytes_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "a" / "page.html"
    assert write_if_changed(path, b"one") is True
    assert write_if_changed(path, b"one") is False
    assert write_if_changed(path, b"two") is True
    assert path.read_bytes() == b"two" and [p.name for p in path.parent.iterdir()] == ["page.html"]


def test_stale_temporary_files_of_a_killed_write_are_removed(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / ".page.html.abc123.tmp").write_text("half")
    (folder / "keep.tmp").write_text("not ours")
    write_atomic(folder / "page.html", "whole")
    assert [p.name for p in remove_stale_tmp(folder)] == [".page.html.abc123.tmp"]
    assert sorted(p.name for p in folder.iterdir()) == ["keep.tmp", "page.html"]


@pytest.mark.build
def test_a_build_into_a_folder_of_a_repository_leaves_nothing_for_git_to_add(sample_build, tmp_path):
    """The marts folder of a build (pages, the DuckDB file, row-level Parquet copies, the work database, the Dagster
    instance) carries a .gitignore that ignores all of it; a folder made anew gets one too."""
    root = sample_build.marts_dir.parent
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert (sample_build.marts_dir / "parquet" / "responses.parquet").is_file()
    status = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [line for line in status if sample_build.marts_dir.name in line] == []
    assert (sample_build.marts_dir / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    fresh = output_folder(tmp_path / "data" / "marts-da")
    assert (fresh / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
