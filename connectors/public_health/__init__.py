"""Public-health system (基本公共卫生) and regional platform (区域全民健康信息平台) adapters: pull visits and physical
exams into the record; push our follow-up records. Same REST shape for both, configured separately."""
