"""Family-doctor contracting (家庭医生签约, issue 21.4/21.5/21.7): the `fd_contract` process, the service-package
catalogue and each contract's package ledger."""
