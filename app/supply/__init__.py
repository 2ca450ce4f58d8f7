"""Stock and consumables (M23): stores, stock movements, reorder alerts, UDI scanning, recalls, the SPD connector."""
