"""Personal data: the privacy notice's version, erasure by the participant, anonymising a finished consultation."""
