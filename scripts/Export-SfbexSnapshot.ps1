<#
.SYNOPSIS
  Writes one sfbex_exporter snapshot of CMS replication and the Skype for Business / Exchange
  integration settings (docs/cms-snapshots.md specifies the format).
.DESCRIPTION
  Runs in the Skype for Business Server Management Shell (detected by
  Get-CsManagementStoreReplicationStatus) or the Exchange Management Shell (Get-AuthConfig), under
  Windows PowerShell 5.1 (powershell.exe, what both management shells are built on) or PowerShell 7.
  Each cmdlet runs on its own: a failure is recorded in the snapshot's Errors list with the section
  it leaves out, and that section is null. Dates are written in the invariant culture (ISO 8601
  round-trip, UTC), whatever the server's culture. Only the properties the checks need are
  exported; no user data.

  With -ExchangeOnlineAppId it also reads the Exchange Online organisation's EWS settings
  (Get-OrganizationConfig EwsEnabled, EwsApplicationAccessPolicy, EwsAllowList, EwsBlockList, and
  the application ID allow list of Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy) into
  an ExchangeOnline section. It connects with the ExchangeOnlineManagement module (v3, under both
  shells) by app-only certificate authentication and disconnects at the end. A failed connection
  or cmdlet is recorded in Errors like any other; nothing secret is written.

  The Entra application it needs (docs/configuration.md#cms-snapshots):
    - an app registration with a certificate (its public key uploaded, the private key in the
      running account's certificate store, or a .pfx file);
    - API permission "Office 365 Exchange Online" > Application > Exchange.ManageAsApp, with
      admin consent;
    - an Entra role for its service principal: Global Reader (read-only) is enough to read the
      organisation configuration.
.PARAMETER ExchangeOnlineAppId
  Application (client) ID of the Entra app above. Turns the Exchange Online part on.
.PARAMETER ExchangeOnlineOrganization
  The tenant's initial domain, e.g. contoso.onmicrosoft.com.
.PARAMETER ExchangeOnlineCertificateThumbprint
  Thumbprint of the app's certificate in the running account's certificate store.
.PARAMETER ExchangeOnlineCertificateFilePath
  Instead of a thumbprint: the app's certificate as a .pfx file.
.PARAMETER ExchangeOnlineCertificatePasswordFile
  File holding the .pfx file's password (readable by the task's account only). Never pass the
  password on the command line.
.PARAMETER ExchangeOnlineEnvironment
  Connect-ExchangeOnline's -ExchangeEnvironmentName for the tenant's cloud: O365Default
  (worldwide and GCC), O365USGovGCCHigh, O365USGovDoD or O365China (21Vianet).
.PARAMETER OutputFolder
  Folder to write <source>.json into, atomically (temporary file, then an atomic replace).
.PARAMETER Uri
  Agent endpoint to POST the snapshot to, e.g. https://sfbex.contoso.com:9726/api/snapshots.
.PARAMETER TokenFile
  File holding the agent's SFBEX_INGEST_TOKEN (readable by the task's account only). Never pass the
  token on the command line.
.PARAMETER TeamsTenantId
  Optional Teams part, Skype for Business shell only: the tenant to read Get-CsTenantFederationConfiguration
  (SharedSipAddressSpace) from. Connects with Connect-MicrosoftTeams and app-only certificate
  authentication (-TenantId, -ApplicationId, -CertificateThumbprint): an Entra application with the
  certificate's public key, allowed to read the tenant's Teams settings. Needs the MicrosoftTeams
  module. Give all three Teams parameters, or none.
.PARAMETER TeamsApplicationId
  The Entra application (client) ID for Connect-MicrosoftTeams.
.PARAMETER TeamsCertificateThumbprint
  Thumbprint of the application's certificate, with its private key, in the task account's
  certificate store (Cert:\CurrentUser\My or Cert:\LocalMachine\My). Nothing of it goes into the snapshot.
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -OutputFolder \\monitor01\sfbex-snapshots
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -Uri https://monitor01.contoso.com:9726/api/snapshots -TokenFile C:\ProgramData\sfbex\token
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -OutputFolder \\monitor01\sfbex-snapshots -TeamsTenantId contoso.onmicrosoft.com -TeamsApplicationId 00000000-0000-0000-0000-000000000000 -TeamsCertificateThumbprint 3A5E0E0B1C4F6A0D9E2B7C1A0F5E4D3C2B1A0F9E
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -OutputFolder \\monitor01\sfbex-snapshots -ExchangeOnlineAppId 11111111-2222-3333-4444-555555555555 -ExchangeOnlineOrganization contoso.onmicrosoft.com -ExchangeOnlineCertificateThumbprint 0123456789ABCDEF0123456789ABCDEF01234567
#>
[CmdletBinding(DefaultParameterSetName = 'Folder')]
param(
    [Parameter(Mandatory, ParameterSetName = 'Folder')][string]$OutputFolder,
    [Parameter(Mandatory, ParameterSetName = 'Post')][uri]$Uri,
    [Parameter(Mandatory, ParameterSetName = 'Post')][string]$TokenFile,
    [string]$TeamsTenantId,
    [string]$TeamsApplicationId,
    [string]$TeamsCertificateThumbprint,
    [string]$ExchangeOnlineAppId,
    [string]$ExchangeOnlineOrganization,
    [string]$ExchangeOnlineCertificateThumbprint,
    [string]$ExchangeOnlineCertificateFilePath,
    [string]$ExchangeOnlineCertificatePasswordFile,
    [ValidateSet('O365Default', 'O365USGovGCCHigh', 'O365USGovDoD', 'O365China')][string]$ExchangeOnlineEnvironment = 'O365Default'
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ScriptVersion = '1.2.0'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

# Read the token first: without one the run cannot deliver anything, so say so before the cmdlets run.
if ($PSCmdlet.ParameterSetName -eq 'Post') {
    $raw = Get-Content -LiteralPath $TokenFile -Raw
    $token = if ($null -eq $raw) { '' } else { $raw.Trim() }
    if ($token -eq '') { throw "The token file $TokenFile is empty: put the agent's SFBEX_INGEST_TOKEN in it (docs/cms-snapshots.md)." }
}

# The Teams part needs all three of its parameters: say so before the cmdlets run.
$teamsParams = @($TeamsTenantId, $TeamsApplicationId, $TeamsCertificateThumbprint | Where-Object { $_ })
if ($teamsParams.Count -ne 0 -and $teamsParams.Count -ne 3) {
    throw 'Give -TeamsTenantId, -TeamsApplicationId and -TeamsCertificateThumbprint together (app-only certificate authentication for Connect-MicrosoftTeams), or none of them.'
}

# The Exchange Online parameters go together: say what is missing before anything runs.
if ($ExchangeOnlineAppId -or $ExchangeOnlineOrganization -or $ExchangeOnlineCertificateThumbprint -or $ExchangeOnlineCertificateFilePath) {
    if (-not $ExchangeOnlineAppId -or -not $ExchangeOnlineOrganization) {
        throw 'The Exchange Online part needs -ExchangeOnlineAppId and -ExchangeOnlineOrganization (e.g. contoso.onmicrosoft.com).'
    }
    if ([bool]$ExchangeOnlineCertificateThumbprint -eq [bool]$ExchangeOnlineCertificateFilePath) {
        throw 'The Exchange Online part needs one of -ExchangeOnlineCertificateThumbprint and -ExchangeOnlineCertificateFilePath.'
    }
    $exoPassword = $null
    if ($ExchangeOnlineCertificatePasswordFile) {
        $raw = Get-Content -LiteralPath $ExchangeOnlineCertificatePasswordFile -Raw
        if ($null -ne $raw -and $raw.Trim() -ne '') { $exoPassword = ConvertTo-SecureString -String $raw.Trim() -AsPlainText -Force }
        $raw = $null
    }
}

# The Exchange Management Shell in a remote session exposes its cmdlets through a module; a
# local Skype for Business shell through the SkypeForBusiness or Lync module.
foreach ($m in 'SkypeForBusiness', 'Lync') {
    if (-not (Get-Command Get-CsManagementStoreReplicationStatus -ErrorAction SilentlyContinue) -and (Get-Module -ListAvailable $m)) {
        Import-Module $m -ErrorAction SilentlyContinue
    }
}
# Run with -File (the agent's own schedule, SFBEX_EXPORT_SCRIPT) on an Exchange server, nothing has
# loaded the Exchange Management Shell: load it as its Start menu shortcut does.
if (-not (Get-Command Get-CsManagementStoreReplicationStatus -ErrorAction SilentlyContinue) -and
    -not (Get-Command Get-AuthConfig -ErrorAction SilentlyContinue) -and $env:ExchangeInstallPath -and
    (Test-Path -LiteralPath (Join-Path $env:ExchangeInstallPath 'bin\RemoteExchange.ps1'))) {
    . (Join-Path $env:ExchangeInstallPath 'bin\RemoteExchange.ps1')
    Connect-ExchangeServer -auto
}
if (Get-Command Get-CsManagementStoreReplicationStatus -ErrorAction SilentlyContinue) { $Shell = 'SkypeForBusiness' }
elseif (Get-Command Get-AuthConfig -ErrorAction SilentlyContinue) { $Shell = 'Exchange' }
else { throw 'Run this script in the Skype for Business Server Management Shell or the Exchange Management Shell.' }

$errors = New-Object System.Collections.ArrayList

function Add-ExportError([string]$Section, [string]$Cmdlet, [string]$Message) {
    $m = $Message -replace '\s+', ' '
    [void]$errors.Add([pscustomobject][ordered]@{ Section = $Section; Cmdlet = $Cmdlet; Message = $m.Substring(0, [Math]::Min(300, $m.Length)) })
}

function ConvertTo-Utc($d) {
    if ($null -eq $d) { return $null }
    if ($d -is [DateTimeOffset]) { $d = $d.UtcDateTime }
    $d = [datetime]$d
    if ($d -eq [datetime]::MinValue) { return $null }
    # Round-trip format in the invariant culture: a custom format would take the server's time
    # separator (fi-FI: '.') and calendar (th-TH: Buddhist years), which the agent cannot read.
    return $d.ToUniversalTime().ToString('o', $Invariant)
}

# Get-Prop reads a property that may not exist (StrictMode would throw).
function Get-Prop($o, [string]$Name) {
    $p = $o.PSObject.Properties[$Name]
    if ($p) { return $p.Value } else { return $null }
}

# Invoke-Step runs one cmdlet, keeps only the named properties (enums and identities as strings,
# dates as UTC, multi-valued properties as lists) and records a failure, with the section it leaves out, instead of stopping. The
# cmdlets in $Run take -ErrorAction Stop themselves: the Exchange cmdlets are proxy functions of a
# remote session, which ignore this script's $ErrorActionPreference, so their errors would
# otherwise come back as an empty section.
function Invoke-Step([string]$Section, [string]$Cmdlet, [scriptblock]$Run, [string[]]$Text, [string[]]$Bool, [string[]]$Date, [string[]]$List) {
    try {
        $rows = @(& $Run)
        $out = New-Object System.Collections.ArrayList
        foreach ($r in $rows) {
            $o = [ordered]@{}
            foreach ($p in $Text) { $v = Get-Prop $r $p; $o[$p] = if ($null -eq $v) { $null } else { [string]$v } }
            foreach ($p in $Bool) { $v = Get-Prop $r $p; $o[$p] = if ($null -eq $v) { $null } else { [bool]$v } }
            foreach ($p in $Date) { $o[$p] = ConvertTo-Utc (Get-Prop $r $p) }
            # Multi-valued properties as lists of text (an empty one as []).
            foreach ($p in $List) {
                $v = Get-Prop $r $p
                if ($null -eq $v) { $o[$p] = $null } else { $o[$p] = [string[]]@($v | ForEach-Object { [string]$_ }) }
            }
            [void]$out.Add([pscustomobject]$o)
        }
        return , $out.ToArray()
    }
    catch {
        Add-ExportError $Section $Cmdlet $_.Exception.Message
        return $null
    }
}

# The source name comes from the FQDN. A failed DNS lookup of the server's own name is recorded
# and the name is taken from the local configuration instead of ending the run.
try { $fqdn = ([System.Net.Dns]::GetHostEntry($env:COMPUTERNAME)).HostName }
catch {
    Add-ExportError 'ComputerFqdn' '[System.Net.Dns]::GetHostEntry' $_.Exception.Message
    $ip = [System.Net.NetworkInformation.IPGlobalProperties]::GetIPGlobalProperties()
    $fqdn = if ($ip.DomainName) { $ip.HostName + '.' + $ip.DomainName } else { $env:COMPUTERNAME }
}

$snapshot = [ordered]@{
    SnapshotVersion = '1'
    ScriptVersion   = $ScriptVersion
    Timestamp       = ConvertTo-Utc (Get-Date)
    ComputerName    = $env:COMPUTERNAME
    ComputerFqdn    = $fqdn
    Shell           = $Shell
    PSVersion       = $PSVersionTable.PSVersion.ToString()
    PSEdition       = $(if ($PSVersionTable.ContainsKey('PSEdition')) { $PSVersionTable.PSEdition } else { 'Desktop' })
    Culture         = (Get-Culture).Name
}

if ($Shell -eq 'SkypeForBusiness') {
    $s = 'SkypeForBusiness.'
    $snapshot.SkypeForBusiness = [ordered]@{
        ReplicationStatus            = Invoke-Step ($s + 'ReplicationStatus') 'Get-CsManagementStoreReplicationStatus' { Get-CsManagementStoreReplicationStatus -ErrorAction Stop } -Text 'ReplicaFqdn', 'ProductVersion' -Bool 'UpToDate' -Date 'LastUpdateCreation', 'LastStatusReport'
        HostingProviders             = Invoke-Step ($s + 'HostingProviders') 'Get-CsHostingProvider' { Get-CsHostingProvider -ErrorAction Stop } -Text 'Identity', 'ProxyFqdn', 'VerificationLevel', 'AutodiscoverUrl' -Bool 'Enabled', 'EnabledSharedAddressSpace', 'HostsOCSUsers', 'IsLocal'
        AccessEdgeConfiguration      = Invoke-Step ($s + 'AccessEdgeConfiguration') 'Get-CsAccessEdgeConfiguration' { Get-CsAccessEdgeConfiguration -ErrorAction Stop } -Text 'Identity' -Bool 'AllowFederatedUsers'
        OAuthConfiguration           = Invoke-Step ($s + 'OAuthConfiguration') 'Get-CsOAuthConfiguration' { Get-CsOAuthConfiguration -ErrorAction Stop } -Text 'Identity', 'ExchangeAutodiscoverUrl', 'Realm'
        PartnerApplications          = Invoke-Step ($s + 'PartnerApplications') 'Get-CsPartnerApplication' { Get-CsPartnerApplication -ErrorAction Stop } -Text 'Identity', 'ApplicationIdentifier', 'MetadataUrl' -Bool 'Enabled'
        TrustedApplications          = Invoke-Step ($s + 'TrustedApplications') 'Get-CsTrustedApplication' { Get-CsTrustedApplication -ErrorAction Stop } -Text 'Identity', 'ApplicationId', 'TrustedApplicationPoolFqdn', 'Port'
        OAuthServers                 = Invoke-Step ($s + 'OAuthServers') 'Get-CsOAuthServer' { Get-CsOAuthServer -ErrorAction Stop } -Text 'Identity', 'MetadataUrl', 'Realm'
        OAuthTokenIssuerCertificates = Invoke-Step ($s + 'OAuthTokenIssuerCertificates') 'Get-CsCertificate' { Get-CsCertificate -Type OAuthTokenIssuer -ErrorAction Stop } -Text 'Thumbprint', 'Subject', 'Use' -Date 'NotAfter', 'EffectiveDate'
        # Get-CsServerVersion writes one line of text (the release installed and its licence);
        # Get-CsServerPatchVersion a version per installed component (the patch level).
        ServerVersion                = Invoke-Step ($s + 'ServerVersion') 'Get-CsServerVersion' { [pscustomobject]@{ Product = [string](Get-CsServerVersion -ErrorAction Stop) } } -Text 'Product'
        PatchVersions                = Invoke-Step ($s + 'PatchVersions') 'Get-CsServerPatchVersion' { Get-CsServerPatchVersion -ErrorAction Stop } -Text 'ComponentName', 'Version'
    }
    if ($TeamsTenantId) {
        # Optional Teams part. A failed import or connect is recorded with the section it leaves
        # out, never written as an empty section. The module name qualifies the cmdlet: the Skype
        # for Business module has one of the same name.
        $federation = $null
        $step = 'Import-Module MicrosoftTeams'
        try {
            Import-Module MicrosoftTeams -ErrorAction Stop
            $step = 'Connect-MicrosoftTeams'
            Connect-MicrosoftTeams -TenantId $TeamsTenantId -ApplicationId $TeamsApplicationId -CertificateThumbprint $TeamsCertificateThumbprint -ErrorAction Stop | Out-Null
            $federation = Invoke-Step ($s + 'TenantFederationConfiguration') 'Get-CsTenantFederationConfiguration' { MicrosoftTeams\Get-CsTenantFederationConfiguration -ErrorAction Stop } -Text 'Identity' -Bool 'SharedSipAddressSpace'
            Disconnect-MicrosoftTeams -ErrorAction SilentlyContinue | Out-Null
        }
        catch { Add-ExportError ($s + 'TenantFederationConfiguration') $step $_.Exception.Message }
        $snapshot.SkypeForBusiness.TenantFederationConfiguration = $federation
    }
}
else {
    $s = 'Exchange.'
    $authConfig = Invoke-Step ($s + 'AuthConfig') 'Get-AuthConfig' { Get-AuthConfig -ErrorAction Stop } -Text 'CurrentCertificateThumbprint', 'NextCertificateThumbprint', 'PreviousCertificateThumbprint', 'ServiceName', 'Realm' -Date 'NextCertificateEffectiveDate'
    if ($null -eq $authConfig) {
        # Without Get-AuthConfig there is nothing to look up: not "no certificates".
        Add-ExportError ($s + 'AuthCertificates') 'Get-ExchangeCertificate' 'not run: Get-AuthConfig failed'
        $authCertificates = $null
    }
    else {
        $thumbs = @($authConfig | ForEach-Object { $_.CurrentCertificateThumbprint; $_.NextCertificateThumbprint } | Where-Object { $_ })
        $authCertificates = Invoke-Step ($s + 'AuthCertificates') 'Get-ExchangeCertificate' { foreach ($t in $thumbs) { Get-ExchangeCertificate -Thumbprint $t -ErrorAction Stop } } -Text 'Thumbprint', 'Subject' -Date 'NotAfter'
    }
    $snapshot.Exchange = [ordered]@{
        AuthConfig            = $authConfig
        AuthCertificates      = $authCertificates
        PartnerApplications   = Invoke-Step ($s + 'PartnerApplications') 'Get-PartnerApplication' { Get-PartnerApplication -ErrorAction Stop } -Text 'Name', 'ApplicationIdentifier', 'AuthMetadataUrl' -Bool 'Enabled'
        AuthServers           = Invoke-Step ($s + 'AuthServers') 'Get-AuthServer' { Get-AuthServer -ErrorAction Stop } -Text 'Name', 'Type', 'AuthMetadataUrl' -Bool 'Enabled'
        OwaVirtualDirectories = Invoke-Step ($s + 'OwaVirtualDirectories') 'Get-OwaVirtualDirectory' { Get-OwaVirtualDirectory -ADPropertiesOnly -ErrorAction Stop } -Text 'Identity', 'Server', 'InstantMessagingType' -Bool 'InstantMessagingEnabled'
        # The dedicated Exchange hybrid application is switched on by a setting override.
        SettingOverrides      = Invoke-Step ($s + 'SettingOverrides') 'Get-SettingOverride' { Get-SettingOverride -ErrorAction Stop } -Text 'Name', 'ComponentName', 'SectionName' -List 'Parameters', 'Server'
        # This server's build: AdminDisplayVersion shows the cumulative update only, the file
        # version of ExSetup.exe the exact build with security updates (Learn "Exchange Server
        # build numbers and release dates").
        ExchangeServer        = Invoke-Step ($s + 'ExchangeServer') 'Get-ExchangeServer' { Get-ExchangeServer -Identity $env:COMPUTERNAME -ErrorAction Stop } -Text 'Name', 'Fqdn', 'Edition', 'AdminDisplayVersion'
        ExSetup               = Invoke-Step ($s + 'ExSetup') 'Get-Command ExSetup.exe' { if ($env:ExchangeInstallPath -and (Test-Path -LiteralPath (Join-Path $env:ExchangeInstallPath 'bin\ExSetup.exe'))) { (Get-Item -LiteralPath (Join-Path $env:ExchangeInstallPath 'bin\ExSetup.exe') -ErrorAction Stop).VersionInfo } else { (Get-Command ExSetup.exe -ErrorAction Stop).FileVersionInfo } } -Text 'FileVersion'
    }
}

if ($ExchangeOnlineAppId) {
    # Exchange Online's cmdlets share their names with the Exchange Management Shell's: the
    # prefix keeps them apart (Get-SfbexExoOrganizationConfig).
    $s = 'ExchangeOnline.'
    $exo = [ordered]@{ Organization = $ExchangeOnlineOrganization; Environment = $ExchangeOnlineEnvironment; OrganizationConfig = $null; EwsOperationAccessPolicy = $null }
    $connected = $false
    try {
        Import-Module ExchangeOnlineManagement -ErrorAction Stop
        $connect = @{ AppId = $ExchangeOnlineAppId; Organization = $ExchangeOnlineOrganization; ExchangeEnvironmentName = $ExchangeOnlineEnvironment; Prefix = 'SfbexExo'; ShowBanner = $false; ErrorAction = 'Stop' }
        if ($ExchangeOnlineCertificateThumbprint) { $connect.CertificateThumbprint = $ExchangeOnlineCertificateThumbprint }
        else {
            $connect.CertificateFilePath = $ExchangeOnlineCertificateFilePath
            if ($null -ne $exoPassword) { $connect.CertificatePassword = $exoPassword }
        }
        Connect-ExchangeOnline @connect
        $connected = $true
    }
    catch {
        # Not connected: both sections are not exported, which is not "EWS off".
        foreach ($n in 'OrganizationConfig', 'EwsOperationAccessPolicy') { Add-ExportError ($s + $n) 'Connect-ExchangeOnline' $_.Exception.Message }
    }
    if ($connected) {
        try {
            $exo.OrganizationConfig = Invoke-Step ($s + 'OrganizationConfig') 'Get-OrganizationConfig' { Get-SfbexExoOrganizationConfig -ErrorAction Stop } -Text 'EwsApplicationAccessPolicy' -Bool 'EwsEnabled' -List 'EwsAllowList', 'EwsBlockList'
            $exo.EwsOperationAccessPolicy = Invoke-Step ($s + 'EwsOperationAccessPolicy') 'Get-OrganizationConfig' { Get-SfbexExoOrganizationConfig -RetrieveEwsOperationAccessPolicy -ErrorAction Stop } -List 'EwsAllowedAppIDs'
        }
        finally {
            Disconnect-ExchangeOnline -Confirm:$false -ErrorAction SilentlyContinue
        }
    }
    $snapshot.ExchangeOnline = $exo
}
$snapshot.Errors = $errors.ToArray()

$json = $snapshot | ConvertTo-Json -Depth 6
$source = ($(if ($Shell -eq 'Exchange') { 'exchange-' } else { 'sfb-' }) + $fqdn.ToLowerInvariant()) -replace '[^a-z0-9.-]+', '-'

if ($PSCmdlet.ParameterSetName -eq 'Folder') {
    $target = Join-Path $OutputFolder "$source.json"
    $tmp = Join-Path $OutputFolder ".$source.$PID.tmp"
    # UTF-8 without BOM under both shells.
    [System.IO.File]::WriteAllText($tmp, $json, (New-Object System.Text.UTF8Encoding $false))
    try {
        if ($null -ne [System.IO.File].GetMethod('Move', [type[]]@([string], [string], [bool]))) {
            # PowerShell 7 (.NET Core 3+): a rename that replaces the target in one step.
            [System.IO.File]::Move($tmp, $target, $true)
        }
        elseif ([System.IO.File]::Exists($target)) {
            # Windows PowerShell 5.1: Move-Item -Force deletes the old file first, and the agent,
            # finding no file, would drop the source. ReplaceFile swaps the new file in under the
            # old name in one step. [NullString]::Value passes a real null (no backup file): $null
            # would arrive as ''.
            [System.IO.File]::Replace($tmp, $target, [NullString]::Value)
        }
        else {
            [System.IO.File]::Move($tmp, $target)
        }
    }
    catch {
        # A share that cannot replace in one step: delete and rename. The agent keeps a source
        # whose file is missing for one run, so the gap costs nothing.
        Write-Warning "Atomic replace of $target failed ($($_.Exception.Message)); replacing it in two steps."
        try { Move-Item -LiteralPath $tmp -Destination $target -Force }
        catch { Remove-Item -LiteralPath $tmp -ErrorAction SilentlyContinue; throw }
    }
}
else {
    # Windows PowerShell 5.1 (.NET Framework) may offer only TLS 1.0 and 1.1, and the agent requires
    # TLS 1.2. PowerShell 7 ignores this setting and offers TLS 1.2 and 1.3 anyway.
    [System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12
    $body = [System.Text.Encoding]::UTF8.GetBytes($json)
    Invoke-RestMethod -Method Post -Uri $Uri -Body $body -ContentType 'application/json; charset=utf-8' -Headers @{ Authorization = "Bearer $token" } -TimeoutSec 60 | Out-Null
}
