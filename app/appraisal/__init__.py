"""Performance appraisal (绩效考核, M13, issue 20.4): versioned schemes per institution type and period results
ranked among peers, computed from the quality indicator library."""
