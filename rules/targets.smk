# One target rule per figure of every selected study, generated from the study's declaration
# (noisyrnn.studies.<study>.study): `snakemake fig3_adaptation` builds that figure and what
# it needs.


for _study, _declared in STUDIES.items():
    for _fig in _declared.figures:

        rule:
            name:
                _fig
            input:
                figure_files(_study, _fig),
            localrule: True
