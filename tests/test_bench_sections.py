"""The benchmarks share docs/performance.md: re-running one keeps the others' figures."""

from bench import sections


def test_a_new_section_is_appended_and_an_old_one_replaced(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text("# Check-in\nfigures\n", encoding="utf-8")

    sections.section_write("verdict", "## Verdict\n8.1 s", path)
    sections.section_write("tpp", "## TPP\n40 s", path)
    sections.section_write("verdict", "## Verdict\n7.0 s", path)

    text = path.read_text(encoding="utf-8")
    assert "8.1 s" not in text
    assert text.index("# Check-in") < text.index("7.0 s") < text.index("40 s")


def test_rewriting_the_head_keeps_every_section(tmp_path):
    path = tmp_path / "performance.md"
    path.write_text("# Check-in\nold figures\n", encoding="utf-8")
    sections.section_write("tpp", "## TPP\n40 s", path)

    sections.head_write("# Check-in\nnew figures\n", path)

    text = path.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.startswith("# Check-in\nnew figures\n")
    assert "## TPP\n40 s" in text
