<#
.SYNOPSIS
  Writes one sfbex_exporter snapshot of CMS replication and the Skype for Business / Exchange
  integration settings (docs/cms-snapshots.md specifies the format).
.DESCRIPTION
  Runs in the Skype for Business Server Management Shell (detected by
  Get-CsManagementStoreReplicationStatus) or the Exchange Management Shell (Get-AuthConfig), under
  Windows PowerShell 5.1 or PowerShell 7. Each cmdlet runs on its own: a failure is recorded in the
  snapshot's Errors list and its section is null. Only the properties the checks need are exported;
  no user data.
.PARAMETER OutputFolder
  Folder to write <source>.json into, atomically (temporary file, then Move-Item -Force).
.PARAMETER Uri
  Agent endpoint to POST the snapshot to, e.g. https://sfbex.contoso.com:9726/api/snapshots.
.PARAMETER TokenFile
  File holding the agent's SFBEX_INGEST_TOKEN (readable by the task's account only). Never pass the
  token on the command line.
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -OutputFolder \\monitor01\sfbex-snapshots
.EXAMPLE
  .\Export-SfbexSnapshot.ps1 -Uri https://monitor01.contoso.com:9726/api/snapshots -TokenFile C:\ProgramData\sfbex\token
#>
[CmdletBinding(DefaultParameterSetName = 'Folder')]
param(
    [Parameter(Mandatory, ParameterSetName = 'Folder')][string]$OutputFolder,
    [Parameter(Mandatory, ParameterSetName = 'Post')][uri]$Uri,
    [Parameter(Mandatory, ParameterSetName = 'Post')][string]$TokenFile
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$ScriptVersion = '1.0.0'

# The Exchange Management Shell in a remote session exposes its cmdlets through a module; a
# local Skype for Business shell through the SkypeForBusiness or Lync module.
foreach ($m in 'SkypeForBusiness', 'Lync') {
    if (-not (Get-Command Get-CsManagementStoreReplicationStatus -ErrorAction SilentlyContinue) -and (Get-Module -ListAvailable $m)) {
        Import-Module $m -ErrorAction SilentlyContinue
    }
}
if (Get-Command Get-CsManagementStoreReplicationStatus -ErrorAction SilentlyContinue) { $Shell = 'SkypeForBusiness' }
elseif (Get-Command Get-AuthConfig -ErrorAction SilentlyContinue) { $Shell = 'Exchange' }
else { throw 'Run this script in the Skype for Business Server Management Shell or the Exchange Management Shell.' }

$errors = New-Object System.Collections.ArrayList

function ConvertTo-Utc($d) {
    if ($null -eq $d) { return $null }
    # ISO 8601 in UTC under both shells: the agent also reads 5.1's \/Date()\/, but one format is simpler to check by eye.
    return ([datetime]$d).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffffffZ')
}

# Get-Prop reads a property that may not exist (StrictMode would throw).
function Get-Prop($o, [string]$Name) {
    $p = $o.PSObject.Properties[$Name]
    if ($p) { return $p.Value } else { return $null }
}

# Invoke-Step runs one cmdlet, keeps only the named properties (enums and
# identities as strings, dates as UTC) and records a failure instead of stopping.
function Invoke-Step([string]$Cmdlet, [scriptblock]$Run, [string[]]$Text, [string[]]$Bool, [string[]]$Date) {
    try {
        $rows = @(& $Run)
        $out = New-Object System.Collections.ArrayList
        foreach ($r in $rows) {
            $o = [ordered]@{}
            foreach ($p in $Text) { $v = Get-Prop $r $p; $o[$p] = if ($null -eq $v) { $null } else { [string]$v } }
            foreach ($p in $Bool) { $v = Get-Prop $r $p; $o[$p] = if ($null -eq $v) { $null } else { [bool]$v } }
            foreach ($p in $Date) { $o[$p] = ConvertTo-Utc (Get-Prop $r $p) }
            [void]$out.Add([pscustomobject]$o)
        }
        return , $out.ToArray()
    }
    catch {
        [void]$errors.Add([pscustomobject]@{ Cmdlet = $Cmdlet; Message = ($_.Exception.Message -replace '\s+', ' ').Substring(0, [Math]::Min(300, ($_.Exception.Message -replace '\s+', ' ').Length)) })
        return $null
    }
}

$snapshot = [ordered]@{
    SnapshotVersion = '1'
    ScriptVersion   = $ScriptVersion
    Timestamp       = ConvertTo-Utc (Get-Date)
    ComputerName    = $env:COMPUTERNAME
    ComputerFqdn    = ([System.Net.Dns]::GetHostEntry($env:COMPUTERNAME)).HostName
    Shell           = $Shell
    PSVersion       = $PSVersionTable.PSVersion.ToString()
    PSEdition       = $(if ($PSVersionTable.ContainsKey('PSEdition')) { $PSVersionTable.PSEdition } else { 'Desktop' })
}

if ($Shell -eq 'SkypeForBusiness') {
    $snapshot.SkypeForBusiness = [ordered]@{
        ReplicationStatus            = Invoke-Step 'Get-CsManagementStoreReplicationStatus' { Get-CsManagementStoreReplicationStatus } -Text ReplicaFqdn, ProductVersion -Bool UpToDate -Date LastUpdateCreation, LastStatusReport
        HostingProviders             = Invoke-Step 'Get-CsHostingProvider' { Get-CsHostingProvider } -Text Identity, ProxyFqdn, VerificationLevel -Bool Enabled, EnabledSharedAddressSpace, HostsOCSUsers, IsLocal
        AccessEdgeConfiguration      = Invoke-Step 'Get-CsAccessEdgeConfiguration' { Get-CsAccessEdgeConfiguration } -Text Identity -Bool AllowFederatedUsers
        OAuthConfiguration           = Invoke-Step 'Get-CsOAuthConfiguration' { Get-CsOAuthConfiguration } -Text Identity, ExchangeAutodiscoverUrl, Realm
        PartnerApplications          = Invoke-Step 'Get-CsPartnerApplication' { Get-CsPartnerApplication } -Text Identity, ApplicationIdentifier, MetadataUrl -Bool Enabled
        TrustedApplications          = Invoke-Step 'Get-CsTrustedApplication' { Get-CsTrustedApplication } -Text Identity, ApplicationId, TrustedApplicationPoolFqdn, Port
        OAuthServers                 = Invoke-Step 'Get-CsOAuthServer' { Get-CsOAuthServer } -Text Identity, MetadataUrl, Realm
        OAuthTokenIssuerCertificates = Invoke-Step 'Get-CsCertificate' { Get-CsCertificate -Type OAuthTokenIssuer } -Text Thumbprint, Subject, Use -Date NotAfter
    }
}
else {
    $authConfig = Invoke-Step 'Get-AuthConfig' { Get-AuthConfig } -Text CurrentCertificateThumbprint, NextCertificateThumbprint, PreviousCertificateThumbprint, ServiceName, Realm -Date NextCertificateEffectiveDate
    $thumbs = @($authConfig | Where-Object { $_ } | ForEach-Object { $_.CurrentCertificateThumbprint; $_.NextCertificateThumbprint } | Where-Object { $_ })
    $snapshot.Exchange = [ordered]@{
        AuthConfig            = $authConfig
        AuthCertificates      = Invoke-Step 'Get-ExchangeCertificate' { foreach ($t in $thumbs) { Get-ExchangeCertificate -Thumbprint $t } } -Text Thumbprint, Subject -Date NotAfter
        PartnerApplications   = Invoke-Step 'Get-PartnerApplication' { Get-PartnerApplication } -Text Name, ApplicationIdentifier, AuthMetadataUrl -Bool Enabled
        AuthServers           = Invoke-Step 'Get-AuthServer' { Get-AuthServer } -Text Name, Type, AuthMetadataUrl -Bool Enabled
        OwaVirtualDirectories = Invoke-Step 'Get-OwaVirtualDirectory' { Get-OwaVirtualDirectory -ADPropertiesOnly } -Text Identity, Server, InstantMessagingType -Bool InstantMessagingEnabled
    }
}
$snapshot.Errors = $errors.ToArray()

$json = $snapshot | ConvertTo-Json -Depth 6
$source = ($(if ($Shell -eq 'Exchange') { 'exchange-' } else { 'sfb-' }) + $snapshot.ComputerFqdn.ToLowerInvariant()) -replace '[^a-z0-9.-]+', '-'

if ($PSCmdlet.ParameterSetName -eq 'Folder') {
    $target = Join-Path $OutputFolder "$source.json"
    $tmp = Join-Path $OutputFolder ".$source.$PID.tmp"
    # UTF-8 without BOM under both shells; the agent also reads UTF-16 and BOMs.
    [System.IO.File]::WriteAllText($tmp, $json, (New-Object System.Text.UTF8Encoding $false))
    Move-Item -LiteralPath $tmp -Destination $target -Force
}
else {
    $token = (Get-Content -LiteralPath $TokenFile -Raw).Trim()
    $body = [System.Text.Encoding]::UTF8.GetBytes($json)
    Invoke-RestMethod -Method Post -Uri $Uri -Body $body -ContentType 'application/json; charset=utf-8' -Headers @{ Authorization = "Bearer $token" } -TimeoutSec 60 | Out-Null
}
