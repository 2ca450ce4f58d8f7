"""Importable, but without SCRIPT_FUNCTIONS: naming it in YGT_SCRIPT_EXTENSIONS is a start-up error."""
