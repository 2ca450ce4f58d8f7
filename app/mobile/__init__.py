"""Mobile sync API for village doctors working offline (issue 22.1): the packet, facts, completion commands,
offline leases and device revocation. See docs/mobile.md."""
