"""Research extraction (科研数据, issue 20.7 / M15): cohort + variables, committee approval, de-identified extract."""
