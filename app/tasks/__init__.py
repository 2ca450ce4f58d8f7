"""The personal task inbox: views, filters, saved filters, claim/assign/delegate, comments, drafts, forms, completion."""
