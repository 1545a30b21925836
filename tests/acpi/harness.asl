/*
 * Test harness for check_tables.py, loaded by acpiexec next to the DSDT.
 * acpiexec backs SystemMemory regions with plain RAM, so the tests play the
 * VMM's part by storing to the hotplug and GED registers directly.
 */
DefinitionBlock ("", "SSDT", 2, "VMMVMM", "VMMTEST", 1)
{
    External (\_SB.CPUS.CSTS, FieldUnitObj)
    External (\_SB.CPUS.CCMD, FieldUnitObj)
    External (\_SB.CPUS.CNXT, FieldUnitObj)
    External (\_SB.GED0.GEVT, FieldUnitObj)

    /* Set the STATUS register (every CPU sees it: the selector is RAM too). */
    Method (\TSTS, 1, Serialized)
    {
        \_SB.CPUS.CSTS = Arg0
    }

    /*
     * Set NEXT_EVENT. In RAM it does not change when the scan acknowledges
     * the event, so a scan then runs its full bound on that one CPU.
     */
    Method (\TNXT, 1, Serialized)
    {
        \_SB.CPUS.CNXT = Arg0
    }

    /* Set the GED event register. */
    Method (\TGEV, 1, Serialized)
    {
        \_SB.GED0.GEVT = Arg0
    }

    /* Clear the COMMAND register so a later write can be seen. */
    Method (\TCMD, 0, Serialized)
    {
        \_SB.CPUS.CCMD = Zero
    }
}
