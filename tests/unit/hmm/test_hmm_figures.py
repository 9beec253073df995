"""hmm figures: an unknown name and a statistics file lacking a variable fail naming it."""

import numpy as np
import pytest
import xarray as xr

from noisyrnn.core import io
from noisyrnn.studies.hmm import figures


def test_every_declared_figure_has_a_drawer():
    from noisyrnn.studies.hmm.study import STUDY

    assert set(STUDY.figures) == set(figures.FIGURES)


def test_a_missing_variable_names_the_file(tmp_path):
    path = tmp_path / "chain2.nc"
    io.write_netcdf(xr.Dataset({"distance": (("seed",), np.ones(2))}), path, {}, title="t", source="s")
    with pytest.raises(io.ArtefactError, match=r"chain2\.nc: lacks variable\(s\) .*hmm_transition"):
        figures.draw("hmm_fig_hmms", {"chain2": str(path)}, tmp_path / "f.pdf", tmp_path / "f.png", {})
    with pytest.raises(KeyError, match="unknown figure"):
        figures.draw("hmm_fig_nope", {"chain2": str(path)}, tmp_path / "f.pdf", tmp_path / "f.png", {})
    assert not (tmp_path / "f.png").exists()
