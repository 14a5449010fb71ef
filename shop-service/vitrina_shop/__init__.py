"""vitrina_shop"""
