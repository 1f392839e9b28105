"""AOTInductor packages of the models' padded forward (torch.export + AOTInductor), for seqpack's
compiled path."""
