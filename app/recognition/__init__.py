"""Cross-institution record (全网记录) and result mutual recognition (检查检验结果互认), issue 17.5 (M20)."""
