"""``relax-pins cuda``: the pure query over the shipped matrix and its text and JSON renderings."""

from __future__ import annotations

import json
import re

import pytest

from resolver.cuda.builds import index_for
from resolver.cuda.matrix import load_matrix
from resolver.cuda.query import answer_cuda_query
from resolver.errors import InputError
from resolver.writers.cuda import render_cuda_json, render_cuda_text

MATRIX = load_matrix()


def test_one_line_with_every_constraint() -> None:
    answer = answer_cuda_query(MATRIX, torch="2.7", cuda="12.8", driver="570.86", python="3.12")
    (line,) = answer.lines
    assert line.ok and (line.torchvision, line.torchaudio) == ("0.22", "2.7")
    assert [(b.variant, b.main_index, b.fits, b.driver) for b in line.builds] == [
        ("cu126", True, True, "full"),
        ("cu118", False, False, "full"),
        ("cu126", False, True, "full"),
        ("cu128", False, True, "full"),
    ]
    assert line.recommended is line.builds[0]
    assert line.install == 'pip install "torch>=2.7.0,<2.8.0" "torchvision>=0.22.0,<0.23.0" "torchaudio>=2.7.0,<2.8.0"'
    assert (answer.driver_full_cuda, answer.driver_major) == ("12.8", "12.x")
    assert line.builds[3].arch[-1] == "sm_120"


def test_an_exact_release_gets_exact_companions_and_the_variant_index() -> None:
    answer = answer_cuda_query(
        MATRIX, torch="2.11.0", cuda="12.8", driver="570.86.15", python=None, torch_index="https://t.invalid/"
    )
    (line,) = answer.lines
    assert line.install == (
        'pip install "torch==2.11.0" "torchvision==0.26.0" "torchaudio==2.11.0" --index-url "https://t.invalid/whl/cu128"'
    )
    main = line.builds[0]
    assert (main.cuda, main.fits, main.driver) == ("13.0", False, "unsupported")


def test_lines_that_do_not_work_say_why() -> None:
    answer = answer_cuda_query(MATRIX, torch=">=2.0,<2.2", cuda="12.8", driver=None, python="3.12")
    assert [(line.torch, line.reasons) for line in answer.lines] == [
        ("2.0", ("no wheels for Python 3.12 (only 3.8-3.11)", "no CUDA 12 build")),
        ("2.1", ("no wheels for Python 3.12 (only 3.8-3.11)",)),
    ]
    assert answer.usable == ()
    unknown = answer_cuda_query(MATRIX, torch="2.15", cuda="12.8", driver=None, python=None)
    assert "not list its PyTorch wheel index variants" in unknown.lines[0].reasons[0]
    old_driver = answer_cuda_query(MATRIX, torch="2.11", cuda="13.0", driver="535.104.05", python=None)
    assert old_driver.lines[0].reasons == ("driver 535.104.05 is too old for every build that fits",)


def test_cpu_and_every_line() -> None:
    answer = answer_cuda_query(MATRIX, torch=None, cuda="cpu", driver=None, python="3.14")
    assert [line.torch for line in answer.usable] == ["2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15"]
    assert all(
        line.install and line.install.endswith('--index-url "<PyTorch wheel index>/whl/cpu"') for line in answer.usable
    )


@pytest.mark.parametrize(
    ("torch", "cuda", "driver", "python"),
    [
        ("3.0", None, None, None),
        ("latest", None, None, None),
        (None, "12", None, None),
        (None, None, "new", None),
        (None, None, None, "2.7"),
    ],
)
def test_bad_queries_are_input_errors(
    torch: str | None, cuda: str | None, driver: str | None, python: str | None
) -> None:
    with pytest.raises(InputError):
        answer_cuda_query(MATRIX, torch=torch, cuda=cuda, driver=driver, python=python)


def test_text_rendering() -> None:
    text = render_cuda_text(
        answer_cuda_query(MATRIX, torch=">=2.10,<2.12", cuda="12.8", driver="535.104.05", python=None)
    )
    assert text == (
        "relax-pins cuda: torch >=2.10,<2.12, CUDA 12.8, driver 535.104.05 (matrix checked 2026-11-27)\n"
        "driver 535.104.05 runs CUDA 12.2 and older fully, and CUDA 12.x under minor-version compatibility\n"
        "2 of 2 torch lines work:\n"
        "  torch 2.10 (2.10.0): torchvision 0.25, torchaudio 2.10, Python 3.10-3.14\n"
        "    builds: main index (CUDA 12.8) * [driver: minor-version compat]; cu126 [driver: minor-version compat]; "
        "cu128 [driver: minor-version compat]; cu130 [does not fit, driver: too old]\n"
        '    install: pip install "torch>=2.10.0,<2.11.0" "torchvision>=0.25.0,<0.26.0" "torchaudio>=2.10.0,<2.11.0"\n'
        "  torch 2.11 (2.11.0): torchvision 0.26, torchaudio 2.11, Python 3.10-3.14\n"
        "    builds: main index (CUDA 13.0) [does not fit, driver: too old]; cu126 [driver: minor-version compat]; "
        "cu128 * [driver: minor-version compat]; cu130 [does not fit, driver: too old]\n"
        '    install: pip install "torch>=2.11.0,<2.12.0" "torchvision>=0.26.0,<0.27.0" "torchaudio>=2.11.0,<2.12.0" '
        '--index-url "<PyTorch wheel index>/whl/cu128"\n'
    )


def test_json_rendering() -> None:
    doc = json.loads(render_cuda_json(answer_cuda_query(MATRIX, torch="2.0", cuda="12.8", driver=None, python=None)))
    assert doc["schema"] == 1 and doc["query"] == {"torch": "2.0", "cuda": "12.8", "driver": None, "python": None}
    (line,) = doc["lines"]
    assert (line["ok"], line["reasons"], line["install"]) == (False, ["no CUDA 12 build"], None)
    assert [b["variant"] for b in line["builds"]] == ["cu117", "cu117", "cu118"]
    assert line["builds"][0]["main_index"] is True and line["builds"][0]["index"] is None
    assert line["builds"][2]["index"] == "<PyTorch wheel index>/whl/cu118"


@pytest.mark.parametrize("given", ["https://t.invalid", "https://t.invalid/whl", "https://t.invalid/whl/cu128/"])
def test_the_torch_index_may_be_given_as_base_whl_or_variant(given: str) -> None:
    """``--torch-index-url .../whl/cu128`` printed ``.../whl/cu128/whl/cu128``: every form names the same base."""
    assert index_for(load_matrix(), "cu126", given) == "https://t.invalid/whl/cu126"


def test_install_lines_paste_into_a_shell() -> None:
    """Without --torch-index-url the install line held a bare ``<PyTorch wheel index>``, which a shell reads as
    a redirection: every < or > in a printed command is inside quotes now."""
    answer = answer_cuda_query(load_matrix(), torch=None, cuda="12.8", driver=None, python="3.11")
    lines = [line.install for line in answer.lines if line.install]
    assert any("<PyTorch wheel index>" in text for text in lines)
    for text in lines:
        unquoted = re.sub(r'"[^"]*"', "", text)
        assert "<" not in unquoted and ">" not in unquoted, text
