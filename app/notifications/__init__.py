"""In-platform notifications: the records a user reads in the header and the SMS/app connector delivers later."""
