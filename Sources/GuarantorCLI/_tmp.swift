import ArgumentParser
public struct GuarantorCommand: ParsableCommand { public init() {} }
