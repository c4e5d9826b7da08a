"""The reference-document and required-program helpers of the tests
(:mod:`shared_docs`, :mod:`required_tools`): found relative to the
repository, and a missing one fails the test instead of skipping it."""
import pytest

import shared_docs
from required_tools import required_tool


def test_shared_spec_is_found_beside_the_repository():
    path = shared_docs.shared_file("spec/show-outputs.md")
    assert path.parent.parent.name == "shared" and path.parent.parent.parent in shared_docs.ROOT.parents
    assert "### Figure 48-22" in path.read_text()


def test_missing_shared_directory_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_docs, "ROOT", tmp_path / "repository")
    with pytest.raises(pytest.fail.Exception, match="no shared/ reference directory"):
        shared_docs.shared_dir()


def test_missing_shared_file_fails():
    with pytest.raises(pytest.fail.Exception, match="spec/no-such-chapter.md is missing"):
        shared_docs.shared_file("spec/no-such-chapter.md")


def test_missing_program_fails():
    assert required_tool("sh", "dash").endswith("/sh")
    with pytest.raises(pytest.fail.Exception, match="no-such-program is not installed .Debian package: none."):
        required_tool("no-such-program", "none")
