import GuarantorCLI
GuarantorCommand.main()
