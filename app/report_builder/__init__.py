"""Custom reports (自定义报表, issue 20.5): measures × dimensions × periods as a pivot, saved and delivered monthly."""
