"""The network's unified supply chain (医共体统一供应链 / SPD): outbound replenishment requests and consignment uses."""
