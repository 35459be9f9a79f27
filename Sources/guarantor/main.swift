import GuarantorCLI

GuarantorCommand.main()
