"""Layer staging: each wave's normalised cells validated (pandera) into respondents, responses, quarantine, open
answers and background groups."""
