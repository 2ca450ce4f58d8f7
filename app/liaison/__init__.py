"""Expert liaison and specialty building (下沉专家与专科共建, issue 21.6, M18)."""
