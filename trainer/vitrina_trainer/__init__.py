"""vitrina_trainer"""
