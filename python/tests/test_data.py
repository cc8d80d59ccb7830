"""xp.data and xp.objectives: the data report and the registered objectives, as the
command line gives them."""

import json

import pytest

import xp
from conftest import tiny, xp_command


def test_the_data_report_is_xp_data_json_with_a_row_per_file_and_class(tmp_path):
    experiment = tiny(tmp_path)
    table = xp.data(experiment)
    report = table.attrs["report"]
    cli = xp_command("data", str(experiment), "--json")
    assert cli.returncode == 0, cli.stderr
    assert report == json.loads(cli.stdout)
    assert len(table) == len(report["classes"]) == 18
    assert {"file", "class", "kept"} <= set(table.columns)
    assert table["kept"].sum() == report["total"]["kept"]
    assert table["kept"].sum() == sum(report["split"][s] for s in ("train", "valid", "test"))


def test_a_bad_data_field_is_an_xp_error(tmp_path):
    with pytest.raises(xp.XpError, match="normalize"):
        xp.data(tiny(tmp_path), set={"data.normalize": "sideways"})


def test_objectives_lists_every_registered_objective_and_field_as_xp_objectives(tmp_path):
    table = xp.objectives()
    listed = xp_command("objectives").stdout
    assert set(table["objective"]) == {"CLS", "MLM", "LA", "NSP", "SOP"}
    for row in table.itertuples():
        assert f"{row.field} = " in listed
    mask = table[(table.objective == "MLM") & (table.field == "mask_prob")]
    assert len(mask) == 1 and mask["doc"].iloc[0]


def test_the_native_module_stubs_name_every_function_and_class_it_has():
    import ast
    from pathlib import Path

    from xp import _native

    stub = ast.parse((Path(xp.__file__).parent / "_native.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    native = {name for name in dir(_native) if not name.startswith("__")}
    assert stubbed == native
    assert xp.XpError.__module__ == "xp"
    assert "Ctrl-C" in xp.run.__doc__ and "KeyboardInterrupt" in xp.run.__doc__
