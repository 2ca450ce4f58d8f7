"""The interventional centre (微创介入中心): `intervention_case` processes, their devices, complications and unplanned
re-operations, the DRG grouper's imported result, and the centre's quality and cost-benefit indicators."""
