"""vitrina_reco"""
