"""PDF reports (weasyprint). Chinese needs a CJK font on the machine: Debian `fonts-noto-cjk` (CI installs it)."""
