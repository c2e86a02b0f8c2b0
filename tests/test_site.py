"""The published site's index (`relubench publish`) and asv's index without unmeasured benchmarks."""

import json
import os
from html.parser import HTMLParser

import pytest

from relubench.cli import main
from relubench.errors import InputError
from relubench.present.asv_offline import drop_unmeasured
from relubench.present.site import write_site_index


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


def hrefs(page):
    parser = Links()
    parser.feed(page.read_text())
    return parser.hrefs


def test_index_links_asv_reports_newest_first_and_figures_relatively(tmp_path):
    (tmp_path / "asv").mkdir()
    (tmp_path / "asv" / "index.html").write_text("<html></html>")
    for i, name in enumerate(["old", "new <b>"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text("<html></html>")
        os.utime(tmp_path / name / "index.html", (1e9 + i, 1e9 + i))
    (tmp_path / "new <b>" / "headlines.json").write_text(json.dumps({"narrow": {"neurons": 12.5}}))
    (tmp_path / "new <b>" / "curve.png").write_bytes(b"png")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "path.png").write_bytes(b"png")
    (tmp_path / "empty").mkdir()  # no index.html: not a report
    page = write_site_index(tmp_path)
    links = hrefs(page)
    assert links == [
        "asv/index.html",
        "new%20%3Cb%3E/index.html",
        "new%20%3Cb%3E/curve.png",
        "old/index.html",
        "figures/path.png",
    ]
    text = page.read_text()
    assert "<b>" not in text and "new &lt;b&gt;" in text and "neurons = 12.5" in text


def test_index_of_an_empty_folder_says_how_to_fill_it(tmp_path):
    text = write_site_index(tmp_path).read_text()
    assert "bash scripts/main.sh" in text and "relubench report" in text and hrefs(tmp_path / "index.html") == []


def test_publish_refuses_a_missing_folder_and_writes_nothing(tmp_path, capsys):
    code = main(["publish", str(tmp_path / "nope")])
    assert code == 2 and not (tmp_path / "nope").exists()
    assert capsys.readouterr().err.count("\n") == 1


def test_unmeasured_benchmarks_leave_asv_index(tmp_path):
    (tmp_path / "graphs" / "summary").mkdir(parents=True)
    (tmp_path / "graphs" / "summary" / "a.time.json").write_text("[]")
    (tmp_path / "index.json").write_text(json.dumps({"benchmarks": {"a.time": {}, "b.time": {}}, "other": 1}))
    assert drop_unmeasured(tmp_path) == ["b.time"]
    assert json.loads((tmp_path / "index.json").read_text()) == {"benchmarks": {"a.time": {}}, "other": 1}
    assert drop_unmeasured(tmp_path) == []
    (tmp_path / "index.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not an index written by"):
        drop_unmeasured(tmp_path)
    (tmp_path / "index.json").unlink()
    assert drop_unmeasured(tmp_path) == []  # nothing to prune
