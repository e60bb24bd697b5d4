"""The editor's view of the feedback, one module per job: the report (``report``), its wording in
English or Dutch (``wording``), the report as CSV for a spreadsheet (``spreadsheet``), and the
questions readers liked as an evaluation set (``evalset``)."""
